package transport

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit/paykit"
)

// fastPolicy keeps retry tables quick: three attempts, waits of a few milliseconds.
var fastPolicy = paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}

// guard is the generous bound after which a test gives up waiting for something that should
// happen at once. It only turns a hang into a failure; no test asserts on elapsed time below it.
const guard = 5 * time.Second

// testSettings are Settings for tests: a long per-attempt timeout (so that a slow, shared
// machine never turns into spurious timeouts) and the fast retry policy.
func testSettings() paykit.Settings {
	return paykit.Settings{Timeout: 30 * time.Second, Retry: fastPolicy}
}

// newTestClient builds a Client for baseURL with testSettings, after edit (if any) has changed
// the Config.
func newTestClient(t testing.TB, baseURL string, edit func(*Config)) *Client {
	t.Helper()
	cfg := Config{Provider: "testprov", BaseURL: baseURL, Settings: testSettings()}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// newServer starts a loopback server that counts the requests it sees before calling h.
func newServer(t testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// countingTransport counts the requests the client starts, whether or not they reach a server.
type countingTransport struct {
	n  atomic.Int64
	rt http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// withCountingTransport sends the client's requests through a countingTransport.
func withCountingTransport(cfg *Config) *countingTransport {
	ct := &countingTransport{rt: DefaultHTTPTransport()}
	cfg.Settings.HTTPClient = &http.Client{Transport: ct}
	return ct
}

// closedAddr returns the address of a listener that was closed: dialling it is refused.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// hijackClose reads the whole request, then closes the connection without answering: the
// request surely reached the server, the client gets no response.
func hijackClose(t testing.TB, w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

// newHangingServer starts a server that reads each request and then answers only when the
// client gives up, or when the test ends (so that closing the server does not wait for it).
func newHangingServer(t testing.TB) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	stop := make(chan struct{})
	srv, n := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice when the client hangs up.
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	// Cleanups run last-registered first: this one before the server's Close.
	t.Cleanup(func() { close(stop) })
	return srv, n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// payment is the Result type the tests decode.
type payment struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
}

var okPayment = payment{ID: "pay_123", Amount: 4200}

// asError extracts the *paykit.Error every failure of Do must be.
func asError(t testing.TB, err error) *paykit.Error {
	t.Helper()
	var pe *paykit.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *paykit.Error", err, err)
	}
	return pe
}

// sentinels are every Kind an Error may have, to check that exactly one matches.
var sentinels = []error{
	paykit.ErrInvalidRequest, paykit.ErrUnauthorized, paykit.ErrNotFound, paykit.ErrConflict,
	paykit.ErrUnprocessable, paykit.ErrRateLimited, paykit.ErrUnavailable,
	paykit.ErrInvalidSignature, paykit.ErrUnsupported, paykit.ErrAmountMismatch,
}

// checkKind fails unless err matches want and no other sentinel.
func checkKind(t testing.TB, err, want error) {
	t.Helper()
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(err, %q) = %v, want %v (err: %v)", s, got, s == want, err)
		}
	}
}

// doAsync runs c.Do in a goroutine; the result arrives on the returned channel.
func doAsync(ctx context.Context, c *Client, req Request) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, req)
		ch <- err
	}()
	return ch
}

// await returns the result of doAsync, failing the test if it does not come within guard.
func await(t testing.TB, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(guard):
		t.Fatalf("Do did not return within %v", guard)
		return nil
	}
}
