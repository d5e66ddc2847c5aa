package transport

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"

	"github.com/paykit/paykit"
)

func TestDecodeProblem(t *testing.T) {
	t.Parallel()
	// Each case starts from an Error that already holds these, so that "unchanged" shows.
	prior := paykit.Error{Code: "prior-code", Type: "prior-type", Message: "prior message"}
	tests := []struct {
		name string
		body string
		want paykit.Error // Code, Type, Message
	}{
		{
			name: "RFC 7807 with field errors",
			body: `{"type":"https://api.example.com/problems/validation","title":"Validation failed","status":400,
				"detail":"The request has invalid fields.","errors":{"zeta":["must be set"],"amount":["too small","not a number"],"Currency":["unknown"]}}`,
			want: paykit.Error{Code: "prior-code", Type: "https://api.example.com/problems/validation",
				Message: "Validation failed: The request has invalid fields.: Currency: unknown: amount: too small; not a number: zeta: must be set"},
		},
		{
			name: "numeric code (Ecster)",
			body: `{"code":4424,"message":"Amount exceeds the order amount"}`,
			want: paykit.Error{Code: "4424", Type: "prior-type", Message: "Amount exceeds the order amount"},
		},
		{
			name: "string code and error",
			body: `{"code":"INVALID_MONEY","error":"invalid currency","type":"validation"}`,
			want: paykit.Error{Code: "INVALID_MONEY", Type: "validation", Message: "invalid currency"},
		},
		{
			name: "field errors as single strings",
			body: `{"title":"Bad Request","errors":{"b":"second","a":"first"}}`,
			want: paykit.Error{Code: "prior-code", Type: "prior-type", Message: "Bad Request: a: first: b: second"},
		},
		{
			name: "unexpected shapes are skipped, the rest is read",
			body: `{"title":"Bad Request","errors":[{"field":"amount"}],"detail":{"x":1},"code":[1]}`,
			want: paykit.Error{Code: "prior-code", Type: "prior-type", Message: "Bad Request"},
		},
		{name: "not JSON", body: `<html>Bad Gateway</html>`, want: prior},
		{name: "empty", body: ``, want: prior},
		{name: "null", body: `null`, want: prior},
		{name: "JSON string", body: `"oops"`, want: prior},
		{name: "object without known fields", body: `{"foo":"bar"}`, want: prior},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := prior
			DecodeProblem([]byte(tt.body), &e)
			if e.Code != tt.want.Code || e.Type != tt.want.Type || e.Message != tt.want.Message {
				t.Errorf("DecodeProblem:\n got Code %q Type %q Message %q\nwant Code %q Type %q Message %q",
					e.Code, e.Type, e.Message, tt.want.Code, tt.want.Type, tt.want.Message)
			}
		})
	}
}

// mockClient returns a Client whose requests go to an httpmock transport (no network).
func mockClient(t *testing.T, edit func(*Config)) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	c := newTestClient(t, "https://api.example.com/v1", func(cfg *Config) {
		cfg.Settings.HTTPClient = &http.Client{Transport: mock}
		if edit != nil {
			edit(cfg)
		}
	})
	return c, mock
}

// TestStatusKinds: every status reaches the caller with its Kind, its status code and the
// decoded message. The POST is not repeatable, so 5xx is not retried; 429 is.
func TestStatusKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		kind     error
		attempts int
	}{
		{400, paykit.ErrInvalidRequest, 1},
		{401, paykit.ErrUnauthorized, 1},
		{403, paykit.ErrUnauthorized, 1},
		{404, paykit.ErrNotFound, 1},
		{409, paykit.ErrConflict, 1},
		{410, paykit.ErrInvalidRequest, 1},
		{422, paykit.ErrUnprocessable, 1},
		{429, paykit.ErrRateLimited, 3},
		{500, paykit.ErrUnavailable, 1},
		{503, paykit.ErrUnavailable, 1},
		// A 3xx that was not followed is no success either.
		{304, paykit.ErrUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			c, mock := mockClient(t, nil)
			mock.RegisterResponder(http.MethodPost, "https://api.example.com/v1/orders/o1/transactions",
				httpmock.NewStringResponder(tt.status, `{"code":"E1","message":"refused"}`))
			var out payment
			resp, err := c.Do(context.Background(), Request{Op: "capture", Method: http.MethodPost, Path: "/orders/o1/transactions", Body: map[string]int{"amount": 1}, Result: &out})
			if resp != nil {
				t.Errorf("Do returned a response with its error")
			}
			checkKind(t, err, tt.kind)
			pe := asError(t, err)
			if pe.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", pe.StatusCode, tt.status)
			}
			if tt.status != 304 && (pe.Code != "E1" || pe.Message != "refused") {
				t.Errorf("Code, Message = %q, %q, want E1, refused", pe.Code, pe.Message)
			}
			if got := mock.GetTotalCallCount(); got != tt.attempts {
				t.Errorf("attempts = %d, want %d", got, tt.attempts)
			}
		})
	}
}

// TestCustomErrorDecoder: Config.DecodeError replaces DecodeProblem.
func TestCustomErrorDecoder(t *testing.T) {
	t.Parallel()
	c, mock := mockClient(t, func(cfg *Config) {
		cfg.DecodeError = func(body []byte, e *paykit.Error) { e.Code = "custom:" + string(body) }
	})
	mock.RegisterResponder(http.MethodGet, "https://api.example.com/v1/x", httpmock.NewStringResponder(404, `nf`))
	_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
	checkKind(t, err, paykit.ErrNotFound)
	if pe := asError(t, err); pe.Code != "custom:nf" {
		t.Errorf("Code = %q, want custom:nf", pe.Code)
	}
}

// TestErrorBodyCut: Error.Body keeps at most 4 KiB of the provider's answer, redacted before
// it is cut, so that a secret across the cut leaves no prefix behind, and cut on a rune
// boundary.
func TestErrorBodyCut(t *testing.T) {
	t.Parallel()
	const secret = "sk_live_0123456789abcdef"
	tests := []struct {
		name string
		body string
		// must / mustNot: what Body must hold and must not hold
		must, mustNot string
	}{
		{"long body", strings.Repeat("a", 10<<10), strings.Repeat("a", 4096), ""},
		{"short body kept whole", `{"message":"no"}`, `{"message":"no"}`, ""},
		{"secret across the cut", strings.Repeat("a", 4090) + secret + strings.Repeat("b", 100), strings.Repeat("a", 4090) + "[RED", secret[:6]},
		{"rune across the cut", strings.Repeat("a", 4095) + "é" + "tail", strings.Repeat("a", 4095), "\xc3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mock := mockClient(t, func(cfg *Config) { cfg.Secrets = []string{secret} })
			mock.RegisterResponder(http.MethodGet, "https://api.example.com/v1/x", httpmock.NewStringResponder(400, tt.body))
			_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
			pe := asError(t, err)
			if len(pe.Body) > 4096 {
				t.Errorf("len(Body) = %d, want at most 4096", len(pe.Body))
			}
			if !bytes.HasPrefix(pe.Body, []byte(tt.must)) {
				t.Errorf("Body does not start with %.40q…", tt.must)
			}
			if tt.mustNot != "" && bytes.Contains(pe.Body, []byte(tt.mustNot)) {
				t.Errorf("Body holds %q", tt.mustNot)
			}
			if !utf8.Valid(pe.Body) {
				t.Errorf("Body is not valid UTF-8 after the cut")
			}
		})
	}
}
