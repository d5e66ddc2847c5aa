package transport

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/paykit/paykit"
)

// DecodeProblem reads the error bodies providers send, leniently: an RFC 7807 problem
// document {type, title, status, detail, errors{field: [messages]}}, or a plain
// {code, message|error, type}. Code may be a string or a number (kept in decimal).
func DecodeProblem(body []byte, e *paykit.Error) {
	var p struct {
		Type    json.RawMessage     `json:"type"`
		Title   string              `json:"title"`
		Detail  string              `json:"detail"`
		Message string              `json:"message"`
		Error   json.RawMessage     `json:"error"`
		Code    json.RawMessage     `json:"code"`
		Errors  map[string][]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return
	}
	e.Type = rawString(p.Type)
	e.Code = rawString(p.Code)
	var parts []string
	for _, s := range []string{p.Title, p.Detail, p.Message, rawString(p.Error)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(p.Errors) > 0 {
		keys := make([]string, 0, len(p.Errors))
		for k := range p.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %s", k, strings.Join(p.Errors[k], "; ")))
		}
	}
	e.Message = strings.Join(parts, ": ")
}

// rawString reads a JSON string or number as text; objects and arrays give "".
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
