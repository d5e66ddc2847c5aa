package redisstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/internal/logbuf"
	"github.com/paykit/paykit/redisstore"
)

// deadRedis returns a client of a redis-server that was started and stopped: every command
// fails at once with a refused connection.
func deadRedis(t *testing.T) *redis.Client {
	t.Helper()
	srv := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	srv.Stop()
	return rdb
}

// requireStoreError checks that err says a store failed, once: its kind is
// ErrStoreUnavailable, which also matches ErrUnavailable (a merchant's retry logic keys on
// it), and its text has one "paykit:" prefix and matches want.
func requireStoreError(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, paykit.ErrStoreUnavailable)
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Regexp(t, want, err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "paykit:"), "one prefix: %s", err)
	assert.NotContains(t, err.Error(), "provider unavailable", "it is the store, not a provider")
}

// Each store names itself in its error when Redis is down.
func TestStoresSayTheyAreTheStoreWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	rdb := deadRedis(t)
	ctx := guardCtx(t)
	refused := `redis: .*connection refused$`

	owners := redisstore.NewOwnershipStore(rdb)
	_, err := owners.Claim(ctx, "pay-1", "ecster")
	requireStoreError(t, err, `^paykit: ownership store: claim "pay-1": store unavailable: `+refused)
	_, _, err = owners.Owner(ctx, "pay-1")
	requireStoreError(t, err, `^paykit: ownership store: read owner "pay-1": store unavailable: `+refused)
	err = owners.Move(ctx, "pay-1", "ecster", "echelon", 1)
	requireStoreError(t, err, `^paykit: ownership store: move "pay-1": store unavailable: `+refused)

	dedupe := redisstore.NewDedupStore(rdb)
	_, err = dedupe.Claim(ctx, "k")
	requireStoreError(t, err, `^paykit: dedupe store: claim: store unavailable: `+refused)
	err = dedupe.Finish(ctx, "k", true)
	require.Error(t, err)

	results := redisstore.NewEntrecardStore(rdb)
	_, _, err = results.Lookup(ctx, "order-1")
	requireStoreError(t, err, `^paykit: entrecard store: lookup "order-1": store unavailable: `+refused)
	_, _, err = results.SaveOrder(ctx, entrecard.Order{ID: "order-1", Description: "x", Quantity: 1, Cost: 5})
	requireStoreError(t, err, `^paykit: entrecard store: save order "order-1": store unavailable: `+refused)
}

// The caller's own context ending a store call is the context's error, not an outage.
func TestStoreErrorOfTheCallersContext(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := redisstore.NewOwnershipStore(srv.Client(t)).Owner(ctx, "pay-1")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, paykit.ErrUnavailable)
}

// A Router whose ownership store is on a dead Redis says so, once, and sends nothing.
func TestRouterOnDeadRedisSaysTheStoreFailed(t *testing.T) {
	t.Parallel()
	rdb := deadRedis(t)
	ctx := guardCtx(t)
	p := newStubProvider()
	r, err := paykit.NewRouter([]paykit.Provider{p}, []paykit.Route{{Providers: []string{"stub"}}},
		paykit.WithOwnershipStore(redisstore.NewOwnershipStore(rdb)))
	require.NoError(t, err)
	refused := `redis: dial tcp .*connection refused$`

	_, err = r.GetPayment(ctx, "pay-1")
	requireStoreError(t, err, `^paykit: router: get payment "pay-1": store unavailable: ownership store: `+refused)
	_, err = r.Capture(ctx, "pay-1", paykit.Money{})
	requireStoreError(t, err, `^paykit: router: capture "pay-1": store unavailable: ownership store: `+refused)
	_, err = r.CreatePayment(ctx, paykit.PaymentRequest{ID: "pay-2", Amount: paykit.Money{Amount: 100, Currency: "EUR"}})
	requireStoreError(t, err, `^paykit: router: create payment "pay-2": store unavailable: ownership store: `+refused)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Unprocessed, "nothing was sent")
	assert.Zero(t, p.fetches.Load(), "the provider was not asked")
}

// The webhook handler over a dedupe store on a dead Redis answers 503 and logs that the
// store failed, once.
func TestWebhookOnDeadRedisSaysTheStoreFailed(t *testing.T) {
	t.Parallel()
	rdb := deadRedis(t)
	var logs logbuf.Buffer
	ran := 0
	h := paykit.NewWebhookHandler(newStubProvider(), func(context.Context, *paykit.Notification) error {
		ran++
		return nil
	}, paykit.WithDedupStore(redisstore.NewDedupStore(rdb)),
		paykit.WithWebhookLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.Equal(t, http.StatusServiceUnavailable, post(h, stubBody("pay-1", "evt-1")))
	assert.Zero(t, ran)
	line := logs.String()
	assert.Contains(t, line, "dedupe store failed")
	assert.Contains(t, line, "payment_id=pay-1")
	assert.Regexp(t, `error="paykit: dedupe store: claim: store unavailable: redis: [^"]*connection refused"`, line)
	assert.Equal(t, 1, strings.Count(line, "paykit:"))
}

// The Entrecard client reports its store's outage as the store's, with one prefix.
func TestEntrecardOnDeadRedisSaysTheStoreFailed(t *testing.T) {
	t.Parallel()
	rdb := deadRedis(t)
	c, err := entrecard.New(entrecard.Config{SellerID: ecSeller, Secret: ecSecret, Store: redisstore.NewEntrecardStore(rdb)})
	require.NoError(t, err)
	_, err = c.GetPayment(guardCtx(t), "order-1")
	requireStoreError(t, err, `^paykit: entrecard: get payment: store unavailable: result store: redis: .*connection refused$`)
}

// The limiter logs its fallback to the logger paykit.SetDefaultLogger set, with no WithLogger.
func TestLimiterLogsToTheDefaultLogger(t *testing.T) { // not parallel: it sets the process's default logger
	rdb := deadRedis(t)
	var logs logbuf.Buffer
	paykit.SetDefaultLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { paykit.SetDefaultLogger(nil) })
	l := redisstore.NewLimiter(rdb, "default-logger", 100, 50*time.Millisecond)
	require.NoError(t, l.Wait(guardCtx(t)))
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "the limiter counts starts locally")
	assert.Contains(t, logs.String(), "limiter=default-logger")
}
