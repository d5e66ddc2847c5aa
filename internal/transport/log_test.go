package transport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/logbuf"
)

// Every attempt's debug line names the provider, the operation and, when the call is about
// a payment, its id.
func TestAttemptLogCarriesProviderOpAndPaymentID(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	var logs logbuf.Buffer
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Settings.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err := c.Do(context.Background(), Request{Op: "get payin", Method: "GET", Path: "/payins/p-1", PaymentID: "p-1", Repeatable: true})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), Request{Op: "balances", Method: "GET", Path: "/balances", Repeatable: true})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "provider=testprov op=\"get payin\" payment_id=p-1 method=GET")
	assert.NotContains(t, lines[1], "payment_id", "a call about no payment names none")
}

// A shared limiter whose store failed is the store's outage, not the provider's rate limit.
func TestLimiterStoreFailureKeepsItsKind(t *testing.T) {
	t.Parallel()
	srv, n := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	storeErr := &paykit.Error{Op: "limiter", Kind: paykit.ErrStoreUnavailable, Message: "redis", Err: errors.New("connection refused")}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Limiter = failingLimiter{storeErr} })
	_, err := c.Do(context.Background(), Request{Op: "get", Method: "GET", Path: "/x", Repeatable: true})
	require.ErrorIs(t, err, paykit.ErrStoreUnavailable)
	assert.NotErrorIs(t, err, paykit.ErrRateLimited)
	assert.Equal(t, "paykit: testprov: get: store unavailable: waiting for the rate limiter: limiter: store unavailable: redis: connection refused", err.Error())
	assert.Zero(t, n.Load())
}

type failingLimiter struct{ err error }

func (l failingLimiter) Wait(context.Context) error { return l.err }
