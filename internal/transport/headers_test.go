package transport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paykit/paykit"
)

// TestRequestHeaders: User-Agent, Accept, configured headers, the JSON body and query reach
// the provider.
func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	type seen struct {
		header http.Header
		path   string
		query  url.Values
		body   map[string]any
	}
	got := make(chan seen, 1)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		s := seen{header: r.Header.Clone(), path: r.URL.EscapedPath(), query: r.URL.Query()}
		_ = json.NewDecoder(r.Body).Decode(&s.body)
		got <- s
		writeJSON(w, http.StatusCreated, okPayment)
	})
	c := newTestClient(t, srv.URL+"/api/", func(cfg *Config) {
		cfg.Settings.UserAgent = "merchant-shop/2.1"
		cfg.Headers = map[string]string{"X-API-Version": "2"}
	})
	var out payment
	resp, err := c.Do(context.Background(), Request{
		Op: "create", Method: http.MethodPost, Path: "/payins/" + url.PathEscape("a/b c"),
		Query: url.Values{"lang": {"sv"}}, Body: map[string]any{"amount": 4200}, Result: &out, Repeatable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || out != okPayment || !strings.Contains(string(resp.Body), "pay_123") {
		t.Errorf("Do = %d %+v %q", resp.StatusCode, out, resp.Body)
	}
	s := <-got
	ua := s.header.Get("User-Agent")
	if !strings.HasPrefix(ua, "paykit-go/"+paykit.Version) || !strings.HasSuffix(ua, " merchant-shop/2.1") || !strings.Contains(ua, "testprov") {
		t.Errorf("User-Agent = %q", ua)
	}
	for k, want := range map[string]string{"X-Api-Version": "2", "Accept": "application/json", "Content-Type": "application/json"} {
		if v := s.header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if s.path != "/api/payins/a%2Fb%20c" || s.query.Get("lang") != "sv" || s.body["amount"] != float64(4200) {
		t.Errorf("path %q query %v body %v", s.path, s.query, s.body)
	}
}

// TestRawBody: a []byte Body is sent as it is.
func TestRawBody(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.WriteHeader(http.StatusNoContent)
	})
	c := newTestClient(t, srv.URL, nil)
	var out payment
	resp, err := c.Do(context.Background(), Request{Op: "x", Method: http.MethodPut, Path: "/x", Body: []byte(`{"raw":true}`), Result: &out})
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("Do = %v, %v", resp, err)
	}
	if b := <-got; b != `{"raw":true}` {
		t.Errorf("body = %q", b)
	}
}

// TestUnencodableBody: a body that cannot be marshalled is refused before anything is sent.
func TestUnencodableBody(t *testing.T) {
	t.Parallel()
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), Request{Op: "x", Method: http.MethodPost, Path: "/x", Body: map[string]any{"f": func() {}}})
	checkKind(t, err, paykit.ErrInvalidRequest)
	if served.Load() != 0 {
		t.Errorf("request sent")
	}
}

// TestMalformedSuccessBody: a 2xx answer that is not the expected JSON is ErrUnavailable, and
// is asked again only when the request is repeatable (the provider did process it).
func TestMalformedSuccessBody(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"id": "pay_1", "amount": `, `<html>maintenance</html>`, `{"amount":"not a number"}`} {
		for _, kind := range requestKinds {
			t.Run(kind.name+"/"+body, func(t *testing.T) {
				t.Parallel()
				srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusOK)
					_, _ = w.Write([]byte(body))
				})
				c := newTestClient(t, srv.URL, nil)
				var out payment
				resp, err := c.Do(context.Background(), kind.req(&out))
				if resp != nil {
					t.Errorf("Do returned a response with its error")
				}
				checkKind(t, err, paykit.ErrUnavailable)
				pe := asError(t, err)
				if pe.StatusCode != http.StatusOK || string(pe.Body) != body || pe.Err == nil {
					t.Errorf("StatusCode %d, Body %q, Err %v", pe.StatusCode, pe.Body, pe.Err)
				}
				want := int64(1)
				if kind.repeatable {
					want = int64(fastPolicy.MaxAttempts)
				}
				if got := served.Load(); got != want {
					t.Errorf("attempts = %d, want %d", got, want)
				}
			})
		}
	}
}
