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
// {code, message|error, type}. Code may be a string or a number (kept in decimal). Each
// member is read on its own, so one of an unexpected shape does not hide the others; names
// match regardless of case. Only what the body holds is set: a body that is not a JSON
// object, or holds none of these, leaves e as it is.
func DecodeProblem(body []byte, e *paykit.Error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || len(obj) == 0 {
		return
	}
	p := make(map[string]json.RawMessage, len(obj))
	for k, v := range obj {
		// An exact lowercase name wins over another spelling of it.
		if lk := strings.ToLower(k); lk == k || p[lk] == nil {
			p[lk] = v
		}
	}
	if s := rawString(p["type"]); s != "" {
		e.Type = s
	}
	if s := rawString(p["code"]); s != "" {
		e.Code = s
	}
	var parts []string
	for _, k := range []string{"title", "detail", "message", "error"} {
		if s := rawString(p[k]); s != "" {
			parts = append(parts, s)
		}
	}
	if fields := fieldErrors(p["errors"]); len(fields) > 0 {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %s", k, strings.Join(fields[k], "; ")))
		}
	}
	if len(parts) > 0 {
		e.Message = strings.Join(parts, ": ")
	}
}

// fieldErrors reads an RFC 7807 "errors" member, {field: [messages]} or {field: message};
// fields whose value is neither are skipped, and any other shape gives nil.
func fieldErrors(raw json.RawMessage) map[string][]string {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		var list []string
		if json.Unmarshal(v, &list) == nil && len(list) > 0 {
			out[k] = list
		} else if s := rawString(v); s != "" {
			out[k] = []string{s}
		}
	}
	return out
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
