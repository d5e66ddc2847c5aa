package ecreditstest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The id of the provider's document, mixed case as there.
const docID = "70df7B42-2926-4fa7-8fed-c5805f823167"

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s := NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body keeping numbers as json.Number.
func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (a answer) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	a.decode(t, &m)
	return m
}

// call sends one request; token "" sends no Authorization header.
func call(t *testing.T, s *Server, method, path, token string, body any) answer {
	t.Helper()
	a, err := tryCall(context.Background(), s.Client(), s, method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

func tryCall(ctx context.Context, c *http.Client, s *Server, method, path, token string, body any) (answer, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return answer{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func authBody() map[string]string {
	return map[string]string{"secret": DefaultSecret, "clientId": DefaultClientID}
}

func login(t *testing.T, s *Server) string {
	t.Helper()
	a := call(t, s, http.MethodPost, RouteAuthentication, "", authBody())
	if a.status != http.StatusOK {
		t.Fatalf("authentication: %d %s", a.status, a.body)
	}
	var r struct{ Token string }
	a.decode(t, &r)
	if r.Token == "" {
		t.Fatalf("authentication: no token in %s", a.body)
	}
	return r.Token
}

// create posts a transaction request and insists on 200.
func create(t *testing.T, s *Server, token string, body any) map[string]any {
	t.Helper()
	a := call(t, s, http.MethodPost, RouteRequests, token, body)
	if a.status != http.StatusOK {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	return a.object(t)
}

func ecsBody(id, amount string) string {
	return `{"id":"` + id + `","amountDue":` + amount + `,"currencyCode":"ECS"}`
}

// guard bounds the waits of these tests: it only turns a hang into a failure.
const guard = 10 * time.Second

func guardCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func checkProblem(t *testing.T, a answer, status int) map[string]any {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	p := a.object(t)
	if got, _ := p["status"].(json.Number); got.String() != strconv.Itoa(status) {
		t.Errorf("problem status %v, want %d", p["status"], status)
	}
	for _, k := range []string{"type", "title", "traceId"} {
		if v, _ := p[k].(string); v == "" {
			t.Errorf("problem without %s: %s", k, a.body)
		}
	}
	return p
}

// requirePay lets the customer pay the request id.
func requirePay(t *testing.T, s *Server, id string) {
	t.Helper()
	if _, err := s.Pay(id); err != nil {
		t.Fatalf("Pay(%s): %v", id, err)
	}
}
