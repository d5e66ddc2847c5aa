package transport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/token"
)

// blockingLimiter signals entered on each Wait, then waits for the context.
type blockingLimiter struct{ entered chan struct{} }

func (l blockingLimiter) Wait(ctx context.Context) error {
	select {
	case l.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// hookHandler is a slog handler that calls fn for each logged attempt, synchronously: inside
// the attempt, before Do looks at the context again.
type hookHandler struct{ fn func() }

func (h hookHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h hookHandler) Handle(context.Context, slog.Record) error { h.fn(); return nil }
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h hookHandler) WithGroup(string) slog.Handler             { return h }

// TestCallerContextIsNotAnOutage: a call ended by the caller's own context, on any path
// (waiting for the limiter, for a token, during an attempt, while waiting to retry, or when a
// retry was due), matches that context error and neither ErrUnavailable nor ErrRateLimited;
// its Kind is the context error.
func TestCallerContextIsNotAnOutage(t *testing.T) {
	t.Parallel()
	type setup struct {
		client  *Client
		entered <-chan struct{} // the call reached the point where the test ends its context
		cancel  func()          // set by the test: ends the context from inside the call
	}
	paths := []struct {
		name string
		make func(t *testing.T, s *setup)
		// during: the path is tested with a context that ends while the call is there;
		// before: with a context already ended when the call starts.
		during, before bool
	}{
		{"limiter wait", func(t *testing.T, s *setup) {
			entered := make(chan struct{}, 1)
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("a request was sent") })
			s.client = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Limiter = blockingLimiter{entered} })
			s.entered = entered
		}, true, true},
		{"token wait", func(t *testing.T, s *setup) {
			entered := make(chan struct{}, 1)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			src := token.NewSource(func(context.Context) (token.Token, error) {
				entered <- struct{}{}
				<-release
				return token.Token{}, errors.New("released")
			})
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("a request was sent") })
			s.client = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = src })
			s.entered = entered
		}, true, true},
		{"attempt", func(t *testing.T, s *setup) {
			entered := make(chan struct{}, 1)
			stop := make(chan struct{})
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				entered <- struct{}{}
				select {
				case <-r.Context().Done():
				case <-stop:
				}
			})
			t.Cleanup(func() { close(stop) })
			s.client = newTestClient(t, srv.URL, nil)
			s.entered = entered
		}, true, true},
		{"backoff wait", func(t *testing.T, s *setup) {
			entered := make(chan int64, 1)
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			s.client = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Logger = slog.New(signalHandler{entered}) })
			done := make(chan struct{})
			go func() {
				select {
				case <-entered:
					close(done)
				case <-time.After(guard):
				}
			}()
			s.entered = done
		}, true, false},
		{"retry due", func(t *testing.T, s *setup) {
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) })
			s.client = newTestClient(t, srv.URL, func(cfg *Config) {
				cfg.Settings.Logger = slog.New(hookHandler{func() { s.cancel() }})
			})
		}, true, false},
	}
	for _, p := range paths {
		for _, when := range []string{"before", "during"} {
			if (when == "before" && !p.before) || (when == "during" && !p.during) {
				continue
			}
			for _, want := range []error{context.Canceled, context.DeadlineExceeded} {
				if when == "during" && want == context.DeadlineExceeded {
					continue // the deadline cases of each path are in their own tests
				}
				t.Run(p.name+"/"+when+"/"+want.Error(), func(t *testing.T) {
					t.Parallel()
					var s setup
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					s.cancel = cancel
					if want == context.DeadlineExceeded {
						var c2 context.CancelFunc
						ctx, c2 = context.WithDeadline(ctx, time.Now().Add(-time.Second))
						defer c2()
					}
					p.make(t, &s)
					if when == "before" {
						cancel()
					} else if s.entered != nil {
						go func() {
							select {
							case <-s.entered:
								cancel()
							case <-time.After(guard):
							}
						}()
					}
					err := await(t, doAsync(ctx, s.client, Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true}))
					require.Error(t, err)
					checkKind(t, err, nil)
					assert.ErrorIs(t, err, want)
					assert.Equal(t, want, asError(t, err).Kind)
				})
			}
		}
	}
}

// errAuth is an Authenticator whose Token fails with err.
type errAuth struct {
	err   error
	calls atomic.Int64
}

func (a *errAuth) Token(context.Context) (string, error) { a.calls.Add(1); return "", a.err }
func (a *errAuth) Invalidate(string)                     {}
func (a *errAuth) Fresh(string) bool                     { return true }

// TestTokenFetchTimeoutIsUnavailable: a token fetch ended by its own time limit (it runs apart
// from the callers' contexts) is the provider's slowness for a caller whose context is still
// live: ErrUnavailable, retried, with the deadline visible; not that caller's deadline.
func TestTokenFetchTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	auth := &errAuth{err: &paykit.Error{Provider: "testprov", Op: "authenticate", Kind: context.DeadlineExceeded, Err: errors.New("slow")}}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })
	_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
	checkKind(t, err, paykit.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	// Not retried by this call: a real token fetch is itself a call through Do, retried there.
	assert.Equal(t, int64(1), auth.calls.Load(), "token attempts")
	assert.Zero(t, served.Load())
}

// TestLimiterRefusalBeforeDeadline: a limiter that refuses at once because the turn would come
// after the deadline (golang.org/x/time/rate does) has not seen the context end: the client's
// share of the provider's limit is spent, ErrRateLimited, like a Retry-After past the deadline.
func TestLimiterRefusalBeforeDeadline(t *testing.T) {
	t.Parallel()
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	require.True(t, lim.Allow()) // the only turn of the hour is spent
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Limiter = lim })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.Do(ctx, Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
	require.NoError(t, ctx.Err())
	checkKind(t, err, paykit.ErrRateLimited)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, served.Load())
}
