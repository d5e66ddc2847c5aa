package transport

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paykit/paykit"
)

// FuzzParseRetryAfter: never panics, never negative, and reads every delay-seconds value
// exactly, capped at 24 h.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"", "0", "1", "-5", "120", "99999999999999999999", "Sat, 21 Nov 2026 12:00:30 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "soon", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := ParseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", v, d)
		}
		secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return // an HTTP date, or nothing valid: any non-negative duration is fine
		}
		want := time.Duration(min(max(secs, 0), 86400)) * time.Second
		if d != want {
			t.Fatalf("ParseRetryAfter(%q) = %v, want %v", v, d, want)
		}
	})
}

// FuzzDecodeProblem: any body leaves a usable error: no panic, valid UTF-8 text only where
// the body was valid UTF-8, and the Kind untouched.
func FuzzDecodeProblem(f *testing.F) {
	for _, s := range []string{
		`{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"amountDue":["must be positive"]}}`,
		`{"code":4424,"message":"Order not found"}`,
		`{"errors":["a","b"],"code":{"x":1}}`,
		`not json`, `null`, `[]`, `{"title":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := &paykit.Error{Kind: paykit.ErrInvalidRequest}
		DecodeProblem(body, e)
		if e.Kind != paykit.ErrInvalidRequest {
			t.Fatal("DecodeProblem changed Kind")
		}
		if utf8.Valid(body) && (!utf8.ValidString(e.Message) || !utf8.ValidString(e.Code) || !utf8.ValidString(e.Type)) {
			t.Fatalf("invalid UTF-8 out of a valid body: %q", body)
		}
		_ = e.Error()
	})
}
