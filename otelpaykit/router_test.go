package otelpaykit_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// stub is a Provider in memory: down answers every create unprocessed and unavailable.
type stub struct {
	name string
	down bool
}

func (s stub) Name() string                      { return s.name }
func (s stub) Capabilities() paykit.Capabilities { return paykit.Capabilities{} }
func (s stub) CreatePayment(_ context.Context, req paykit.PaymentRequest) (*paykit.Payment, error) {
	if s.down {
		return nil, &paykit.Error{Provider: s.name, Op: paykit.OpCreatePayment, Kind: paykit.ErrUnavailable, Unprocessed: true}
	}
	return &paykit.Payment{Provider: s.name, ID: req.ID, Amount: req.Amount, Status: paykit.StatusPending}, nil
}
func (s stub) GetPayment(context.Context, string) (*paykit.Payment, error) {
	return nil, &paykit.Error{Provider: s.name, Kind: paykit.ErrNotFound}
}
func (s stub) Capture(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s stub) Refund(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s stub) Cancel(context.Context, string, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s stub) ParseNotification(*http.Request) (*paykit.Notification, error) {
	return nil, paykit.ErrInvalidRequest
}

func TestRouterFailover(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r := newRec(t)
	router, err := paykit.NewRouter([]paykit.Provider{stub{name: "down", down: true}, stub{name: "up"}, stub{name: "alone", down: true}},
		[]paykit.Route{
			{Name: "eur", Match: paykit.Match{Currencies: []string{"EUR"}}, Providers: []string{"down", "up"}},
			{Name: "sek", Match: paykit.Match{Currencies: []string{"SEK"}}, Providers: []string{"alone"}},
		}, paykit.WithRouterHooks(r.hooks))
	require.NoError(t, err)

	pay, err := router.CreatePayment(ctx, paykit.PaymentRequest{ID: "order-1", Amount: paykit.Money{Amount: 100, Currency: "EUR"}})
	require.NoError(t, err)
	require.Equal(t, "up", pay.Provider)
	_, err = router.CreatePayment(ctx, paykit.PaymentRequest{ID: "order-2", Amount: paykit.Money{Amount: 100, Currency: "SEK"}})
	require.ErrorIs(t, err, paykit.ErrUnavailable)

	spans := r.ended()
	creates := named(spans, "router create payment")
	require.Len(t, creates, 2)
	requireOperation(t, spans, creates[0], paykit.RouterName, paykit.OpCreatePayment, "order-1", "ok")
	ev, ok := hasEvent(creates[0], "paykit.failover")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"paykit.failover.from": "down", "paykit.failover.to": "up", "paykit.failover.taken": "true",
		"paykit.failover.reason": "provider_unavailable", "error.type": "unavailable"}, ev)
	requireOperation(t, spans, creates[1], paykit.RouterName, paykit.OpCreatePayment, "order-2", "unavailable")
	ev, ok = hasEvent(creates[1], "paykit.failover")
	require.True(t, ok)
	assert.Equal(t, "false", ev["paykit.failover.taken"])
	assert.Equal(t, "no_candidate", ev["paykit.failover.reason"])

	rm := r.metrics(t)
	assert.EqualValues(t, 1, counter(rm, "paykit.router.failovers", map[string]string{
		"paykit.failover.from": "down", "paykit.failover.to": "up", "paykit.failover.reason": "provider_unavailable"}))
	assert.EqualValues(t, 1, counter(rm, "paykit.router.failovers", nil), "a refused failover is an event, not a failover")
	assert.Positive(t, histCount(rm, "paykit.store.duration", map[string]string{"paykit.store": "ownership", "paykit.store.operation": "claim"}))
	assert.EqualValues(t, 1, histCount(rm, "paykit.store.duration", map[string]string{"paykit.store": "ownership", "paykit.store.operation": "move"}))
}

// slowLimiter waits at least 2 ms for every turn: long enough to be an event.
type slowLimiter struct{}

func (slowLimiter) Wait(ctx context.Context) error {
	t := time.NewTimer(2 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestRetryAfterAndLimiter: a 429 with Retry-After is an attempt span with error.type 429, a
// retry wait event saying the provider set the wait, and a resent attempt; the limiter's
// waits are events and a histogram.
func TestRetryAfterAndLimiter(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r := newRec(t)
	fake := ecstertest.NewServer(ecstertest.Config{})
	defer fake.Close()
	client, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey,
		BaseURL: fake.URL, ShopTermsURL: "https://shop.example/terms"}, paykit.WithHooks(r.hooks), paykit.WithLimiter(slowLimiter{}))
	require.NoError(t, err)
	fake.FailNext(1, http.StatusTooManyRequests, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrders), ecstertest.RetryAfter("1"))
	_, err = client.GetPayment(ctx, "order-404")
	require.ErrorIs(t, err, paykit.ErrNotFound)

	spans := r.ended()
	gets := named(spans, "ecster get payment")
	require.Len(t, gets, 1)
	requireOperation(t, spans, gets[0], "ecster", paykit.OpGetPayment, "order-404", "not_found")
	ev, ok := hasEvent(gets[0], "paykit.retry.wait")
	require.True(t, ok)
	assert.Equal(t, "true", ev["paykit.retry.retry_after"])
	assert.Equal(t, "429", ev["http.response.status_code"])
	assert.Equal(t, "1", ev["paykit.wait.seconds"])
	_, ok = hasEvent(gets[0], "paykit.limiter.wait")
	assert.True(t, ok)
	attempts := children(spans, gets[0])
	require.Len(t, attempts, 2)
	first, second := attrs(attempts[0].Attributes()), attrs(attempts[1].Attributes())
	assert.Equal(t, "429", first["error.type"])
	assert.NotContains(t, first, "http.request.resend_count")
	assert.Equal(t, "1", second["http.request.resend_count"])
	assert.Equal(t, "200", second["http.response.status_code"]) // an empty list: no such order
	assert.NotContains(t, second, "error.type")

	rm := r.metrics(t)
	assert.EqualValues(t, 1, counter(rm, "paykit.client.retries", map[string]string{"paykit.provider": "ecster", "paykit.retry.retry_after": "true"}))
	assert.EqualValues(t, 1, counter(rm, "paykit.client.rate_limited", map[string]string{"paykit.provider": "ecster"}))
	assert.EqualValues(t, 2, histCount(rm, "paykit.limiter.wait.duration", map[string]string{"paykit.provider": "ecster"}))
	assert.EqualValues(t, 1, histCount(rm, "http.client.request.duration", map[string]string{"http.response.status_code": "429", "error.type": "429"}))
}

// TestNoOpenTelemetryElsewhere: only this package (and its example) links OpenTelemetry; the
// root package, the provider packages, the reconciler and the Redis stores do not.
func TestNoOpenTelemetryElsewhere(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/paykit/paykit", "github.com/paykit/paykit/ecster",
		"github.com/paykit/paykit/echelon", "github.com/paykit/paykit/ecredits", "github.com/paykit/paykit/entrecard",
		"github.com/paykit/paykit/reconcile", "github.com/paykit/paykit/redisstore").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "github.com/paykit/paykit/internal/transport")
	for _, dep := range strings.Fields(string(out)) {
		assert.False(t, strings.HasPrefix(dep, "go.opentelemetry.io"), dep)
	}
}
