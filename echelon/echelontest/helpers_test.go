package echelontest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/echelon/echelontest"
)

// clock is a settable time for the fake's Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// newServer starts a fake with cfg, unthrottled unless cfg says otherwise, closed at the end
// of the test.
func newServer(t *testing.T, cfg echelontest.Config) *echelontest.Server {
	t.Helper()
	if cfg.RateLimit == 0 {
		cfg.RateLimit = echelontest.NoRateLimit
	}
	s := echelontest.NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

// answer is what a raw call got.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call sends one raw request to the fake: the body (at most one) marshalled unless it is a
// string, the API version header, and the bearer token when not empty.
func call(t *testing.T, s *echelontest.Server, method, path, token string, body ...any) answer {
	t.Helper()
	var b any
	if len(body) > 0 {
		b = body[0]
	}
	return send(t, s, method, path, token, b, true)
}

// send is call with the body given, and the API version header only when version is true.
func send(t *testing.T, s *echelontest.Server, method, path, token string, body any, version bool) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	require.NoError(t, err)
	if version {
		req.Header.Set("X-API-Version", "2")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && json.Valid(raw) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		_ = dec.Decode(&a.body)
	}
	return a
}

// token asks the fake for a token with operations (all of them: ".*" when none are given).
func token(t *testing.T, s *echelontest.Server, ops ...string) string {
	t.Helper()
	if len(ops) == 0 {
		ops = []string{".*"}
	}
	a := call(t, s, "POST", "/auth-tokens", "", map[string]any{
		"merchantCode": echelontest.DefaultMerchantCode, "secret": echelontest.DefaultSecret,
		"validitySecs": 600, "operations": ops,
	})
	require.Equal(t, 200, a.status, string(a.raw))
	tok, _ := a.body["token"].(string)
	require.NotEmpty(t, tok)
	return tok
}

// claimsOf reads a token's claims without verifying it.
func claimsOf(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(tok, claims)
	require.NoError(t, err)
	return claims
}

func money(amount any, currency string) map[string]any {
	return map[string]any{"amount": amount, "currencyCode": currency}
}

func payinBody(amount any, currency string, callback string) map[string]any {
	b := map[string]any{
		"paymentRequested": map[string]any{"money": money(amount, currency)},
		"paymentMethod":    map[string]any{"paymentMethodCode": "VAPAY", "paymentOperatorCode": "BNK_000"},
	}
	if callback != "" {
		b["callbackUrl"] = callback
	}
	return b
}

func payoutBody(amount any, currency string, callback string) map[string]any {
	b := map[string]any{
		"paymentRequested": map[string]any{"money": money(amount, currency)},
		"paymentMethod": map[string]any{
			"paymentMethodCode": "BANK_TRANSFER", "paymentOperatorCode": "BNK_000",
			"account":      map[string]any{"accountName": "Jane Doe", "accountNumber": "1234567890"},
			"emailAddress": "jane@example.com",
		},
	}
	if callback != "" {
		b["callbackUrl"] = callback
	}
	return b
}

// receiver is a merchant's callback endpoint that records what arrives and answers with the
// statuses given, then 200.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
}

type received struct {
	method, uri string
	body        []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Method, req.URL.RequestURI(), body})
		status := 200
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func jsonNumber(s string) json.Number { return json.Number(s) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func jsonReader(t *testing.T, v any) io.Reader { return bytes.NewReader(mustJSON(t, v)) }
