package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/token"
)

// countingSource is a token.Source whose fetches hand out tok-1, tok-2, … and are counted.
func countingSource() (*token.Source, *atomic.Int64) {
	var fetches atomic.Int64
	src := token.NewSource(func(context.Context) (token.Token, error) {
		n := fetches.Add(1)
		return token.Token{Value: fmt.Sprintf("tok-%d", n), ExpiresAt: time.Now().Add(time.Hour)}, nil
	})
	return src, &fetches
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// accept says whether the server takes this Authorization header.
		accept       func(auth string) bool
		status       int // what a refused token gets
		wantFetches  int64
		wantAttempts int64
		wantKind     error // nil: success
	}{
		{"refreshed token accepted", func(a string) bool { return a == "Bearer tok-2" }, 401, 2, 2, nil},
		{"always 401", func(string) bool { return false }, 401, 2, 2, paykit.ErrUnauthorized},
		{"403 is not a stale token", func(string) bool { return false }, 403, 1, 1, paykit.ErrUnauthorized},
	}
	for _, tt := range tests {
		for _, kind := range requestKinds {
			t.Run(tt.name+"/"+kind.name, func(t *testing.T) {
				t.Parallel()
				srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					if !tt.accept(r.Header.Get("Authorization")) {
						writeJSON(w, tt.status, map[string]string{"message": "bad token"})
						return
					}
					writeJSON(w, http.StatusOK, okPayment)
				})
				src, fetches := countingSource()
				c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = src })
				var out payment
				// await: a refresh loop that never ends fails the test instead of hanging it.
				err := await(t, doAsync(context.Background(), c, kind.req(&out)))
				if got := fetches.Load(); got != tt.wantFetches {
					t.Errorf("token fetches = %d, want %d", got, tt.wantFetches)
				}
				if got := served.Load(); got != tt.wantAttempts {
					t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
				}
				if tt.wantKind == nil {
					if err != nil || out != okPayment {
						t.Errorf("Do = %+v, %v; want %+v", out, err, okPayment)
					}
					return
				}
				checkKind(t, err, tt.wantKind)
				if pe := asError(t, err); pe.StatusCode != tt.status {
					t.Errorf("StatusCode = %d, want %d", pe.StatusCode, tt.status)
				}
			})
		}
	}
}

// TestNoAuthSendsNoToken: the authentication call itself carries no Authorization header and
// fetches no token.
func TestNoAuthSendsNoToken(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("Authorization = %q on a NoAuth request", a)
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	src, fetches := countingSource()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = src })
	_, err := c.Do(context.Background(), Request{Op: "authenticate", Method: http.MethodPost, Path: "/auth", NoAuth: true, Repeatable: true})
	checkKind(t, err, paykit.ErrUnauthorized)
	if got := fetches.Load(); got != 0 {
		t.Errorf("token fetches = %d, want 0", got)
	}
}

// gatedAuth counts callers inside Token and closes allIn when n of them are in at once.
type gatedAuth struct {
	*token.Source
	entered atomic.Int64
	n       int64
	allIn   chan struct{}
}

func (g *gatedAuth) Token(ctx context.Context) (string, error) {
	if g.entered.Add(1) == g.n {
		close(g.allIn)
	}
	return g.Source.Token(ctx)
}

// TestConcurrentCallsShareOneFetch: 100 calls needing a token at once cause one fetch.
func TestConcurrentCallsShareOneFetch(t *testing.T) {
	t.Parallel()
	const callers = 100
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		writeJSON(w, http.StatusOK, okPayment)
	})
	var fetches atomic.Int64
	auth := &gatedAuth{n: callers, allIn: make(chan struct{})}
	auth.Source = token.NewSource(func(ctx context.Context) (token.Token, error) {
		fetches.Add(1)
		// Hold the fetch until every caller is inside Token, so that all of them need it.
		select {
		case <-auth.allIn:
		case <-time.After(guard):
			return token.Token{}, errors.New("not all callers arrived")
		}
		return token.Token{Value: "tok-1", ExpiresAt: time.Now().Add(time.Hour)}, nil
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out payment
			if _, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Result: &out, Repeatable: true}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Do: %v", err)
	}
	if got := fetches.Load(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
	if got := served.Load(); got != callers {
		t.Errorf("requests = %d, want %d", got, callers)
	}
}

// TestTokenErrorNotShared: a token fetch's *paykit.Error reaches every waiting caller through
// singleflight; Do must not change that shared value (it used to set RetryAfter and Err on it).
func TestTokenErrorNotShared(t *testing.T) {
	t.Parallel()
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	authErr := &paykit.Error{Provider: "testprov", Op: "authenticate", StatusCode: 503, Kind: paykit.ErrUnavailable}
	src := token.NewSource(func(context.Context) (token.Token, error) { return token.Token{}, authErr })
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Auth = src
		// Every wait is an hour: past any test deadline, so a Do that retried would answer at
		// once and set RetryAfter on the error it returns.
		cfg.Settings.Retry = paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Hour, MaxWait: time.Hour}
	})
	const callers = 20
	var wg sync.WaitGroup
	got := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, got[i] = c.Do(ctx, Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
		}()
	}
	wg.Wait()
	for _, err := range got {
		checkKind(t, err, paykit.ErrUnavailable)
		if pe := asError(t, err); pe == authErr {
			t.Errorf("Do returned the token source's own error value")
		} else if pe.RetryAfter != 0 || pe.StatusCode != 503 || !pe.Unprocessed {
			// A failed token fetch is not retried by the call that needed it (the fetch
			// went through its own retries), and nothing of the call was sent.
			t.Errorf("RetryAfter, StatusCode, Unprocessed = %v, %d, %v, want 0, 503, true", pe.RetryAfter, pe.StatusCode, pe.Unprocessed)
		}
	}
	if authErr.RetryAfter != 0 || authErr.Err != nil || authErr.Unprocessed {
		t.Errorf("the fetch's error was changed: RetryAfter %v, Err %v", authErr.RetryAfter, authErr.Err)
	}
	if n := served.Load(); n != 0 {
		t.Errorf("requests = %d, want 0 without a token", n)
	}
}

// TestTokenWaitCancelled: a call whose context ends while it waits for a token says so, and
// is reported neither as bad credentials nor as a provider outage.
func TestTokenWaitCancelled(t *testing.T) {
	t.Parallel()
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	src := token.NewSource(func(context.Context) (token.Token, error) {
		<-release
		return token.Token{}, errors.New("released")
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = src })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := await(t, doAsync(ctx, c, Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = false: %v", err)
	}
	checkKind(t, err, nil)
	if n := served.Load(); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

// TestRefreshLogNumbersAttempts: the attempt sent again after a 401 is logged as attempt 2.
func TestRefreshLogNumbersAttempts(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, http.StatusOK, okPayment)
	})
	src, _ := countingSource()
	logged := make(chan int64, 8)
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Auth = src
		cfg.Settings.Logger = slog.New(signalHandler{logged})
	})
	if _, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true}); err != nil {
		t.Fatal(err)
	}
	close(logged)
	var attempts []int64
	for a := range logged {
		attempts = append(attempts, a)
	}
	if fmt.Sprint(attempts) != "[1 2]" {
		t.Errorf("logged attempts %v, want [1 2]", attempts)
	}
}
