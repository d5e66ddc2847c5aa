package transport

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit/paykit"
)

// countingLimiter counts Wait calls; it fails them with err when err is set, or waits for the
// context when block is set.
type countingLimiter struct {
	calls atomic.Int64
	err   error
	block bool
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.calls.Add(1)
	if l.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return l.err
}

// TestLimiterOncePerAttempt: the limiter is asked before every attempt, retries included.
func TestLimiterOncePerAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// set installs the limiters; used is the one that must be asked.
		set func(cfg *Config, used, unused *countingLimiter)
	}{
		{"Settings.Limiter", func(cfg *Config, used, _ *countingLimiter) { cfg.Settings.Limiter = used }},
		{"DefaultLimiter", func(cfg *Config, used, _ *countingLimiter) { cfg.DefaultLimiter = used }},
		{"Settings.Limiter wins over DefaultLimiter", func(cfg *Config, used, unused *countingLimiter) {
			cfg.Settings.Limiter = used
			cfg.DefaultLimiter = unused
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			used, unused := &countingLimiter{}, &countingLimiter{}
			c := newTestClient(t, srv.URL, func(cfg *Config) { tt.set(cfg, used, unused) })
			_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
			checkKind(t, err, paykit.ErrUnavailable)
			if got, want := used.calls.Load(), served.Load(); got != want || got != int64(fastPolicy.MaxAttempts) {
				t.Errorf("limiter waits = %d, attempts = %d, want %d each", got, want, fastPolicy.MaxAttempts)
			}
			if n := unused.calls.Load(); n != 0 {
				t.Errorf("the other limiter was asked %d times", n)
			}
		})
	}
}

// TestLimiterError: a limiter that refuses ends the call before anything is sent, as
// ErrRateLimited with the limiter's error visible; a wait ended by the caller's context is that
// context's error, not ErrRateLimited.
func TestLimiterError(t *testing.T) {
	t.Parallel()
	errQuota := errors.New("shared quota exhausted")
	tests := []struct {
		name     string
		limiter  *countingLimiter
		timeout  time.Duration
		wantErr  error
		wantKind error
	}{
		{"limiter error", &countingLimiter{err: errQuota}, 0, errQuota, paykit.ErrRateLimited},
		{"deadline while waiting", &countingLimiter{block: true}, 50 * time.Millisecond, context.DeadlineExceeded, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Limiter = tt.limiter })
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			err := await(t, doAsync(ctx, c, Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true}))
			checkKind(t, err, tt.wantKind)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(err, %v) = false: %v", tt.wantErr, err)
			}
			if n := served.Load(); n != 0 {
				t.Errorf("requests = %d, want 0", n)
			}
			if n := tt.limiter.calls.Load(); n != 1 {
				t.Errorf("limiter waits = %d, want 1 (a refusal is not retried)", n)
			}
		})
	}
}
