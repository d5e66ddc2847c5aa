package redisstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/reconcile"
	"github.com/paykit/paykit/redisstore"
)

// callerKey marks the caller's context, which every report must carry.
type callerKey struct{}

// storeLog is a paykit.Hooks whose Store hook keeps every call reported.
type storeLog struct {
	mu    sync.Mutex
	calls []paykit.StoreCall
	ctxOK bool // every report carried the caller's context
	each  chan paykit.StoreCall
}

func newStoreLog() *storeLog { return &storeLog{ctxOK: true, each: make(chan paykit.StoreCall, 1000)} }

func (l *storeLog) hooks() *paykit.Hooks {
	return &paykit.Hooks{Store: func(ctx context.Context, s paykit.StoreCall) {
		l.mu.Lock()
		l.calls = append(l.calls, s)
		if ctx.Value(callerKey{}) == nil {
			l.ctxOK = false
		}
		l.mu.Unlock()
		l.each <- s
	}}
}

// take returns the calls reported since the last take as "store op", checking each one's
// duration, and forgets them.
func (l *storeLog) take(t *testing.T) []string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.calls {
		out = append(out, c.Store+" "+c.Op)
		assert.Positive(t, c.Duration, "%s %s", c.Store, c.Op)
	}
	l.calls = nil
	for len(l.each) > 0 {
		<-l.each
	}
	return out
}

func (l *storeLog) errs() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []error
	for _, c := range l.calls {
		out = append(out, c.Err)
	}
	return out
}

func callerCtx(t *testing.T) context.Context {
	return context.WithValue(guardCtx(t), callerKey{}, true)
}

// TestStoresReportRedisRoundTrips: with WithHooks every store reports each Redis round trip
// under its own name, with the caller's context, and what it answers is unchanged.
func TestStoresReportRedisRoundTrips(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := srv.Client(t)
	ctx := callerCtx(t)
	log := newStoreLog()
	opt := redisstore.WithHooks(log.hooks())

	dedupe := redisstore.NewDedupStore(rdb, opt)
	done, err := dedupe.Claim(ctx, "evt-1")
	require.NoError(t, err)
	require.False(t, done)
	require.NoError(t, dedupe.Finish(ctx, "evt-1", true))
	done, err = dedupe.Claim(ctx, "evt-1")
	require.NoError(t, err)
	require.True(t, done)
	require.Error(t, dedupe.Finish(ctx, "never-claimed", true))
	assert.Equal(t, []string{"redis dedupe claim", "redis dedupe finish", "redis dedupe claim"}, log.take(t),
		"a Finish of a key not claimed here asks nothing of Redis and reports nothing")

	owners := redisstore.NewOwnershipStore(rdb, opt)
	o, err := owners.Claim(ctx, "pay-1", "ecster")
	require.NoError(t, err)
	owner, ok, err := owners.Owner(ctx, "pay-1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "ecster", owner)
	require.NoError(t, owners.Move(ctx, "pay-1", "ecster", "echelon", o.Seq))
	err = owners.Move(ctx, "pay-1", "ecster", "ecredits", o.Seq)
	require.ErrorIs(t, err, paykit.ErrConflict)
	errs := log.errs()
	require.Len(t, errs, 4)
	assert.ErrorIs(t, errs[3], paykit.ErrConflict, "the refused Move's outcome is reported")
	assert.Equal(t, []string{"redis ownership claim", "redis ownership owner", "redis ownership move", "redis ownership move"}, log.take(t))

	watch := redisstore.NewWatchStore(rdb, opt)
	now := time.Now()
	require.NoError(t, watch.Add(ctx, "pay-1", now, now))
	claimed, err := watch.Claim(ctx, now, now.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	e := claimed[0]
	e.Due = now.Add(time.Hour)
	rescheduled, err := watch.Reschedule(ctx, e)
	require.NoError(t, err)
	require.True(t, rescheduled)
	n, err := watch.Len(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	removed, err := watch.Remove(ctx, "pay-1", "")
	require.NoError(t, err)
	require.True(t, removed)
	assert.Equal(t, []string{"redis watch add", "redis watch claim", "redis watch reschedule", "redis watch len", "redis watch remove"}, log.take(t))

	results := redisstore.NewEntrecardStore(rdb, opt)
	_, created, err := results.SaveOrder(ctx, entrecard.Order{ID: "order-1", Description: "Mug", Quantity: 1, Cost: 5})
	require.NoError(t, err)
	require.True(t, created)
	_, created, err = results.SaveResult(ctx, entrecard.Result{SellerID: ecSeller, ID: "order-1", Total: 5, TransactionID: "t-1", Status: entrecard.ResultComplete})
	require.NoError(t, err)
	require.True(t, created)
	entry, ok, err := results.Lookup(ctx, "order-1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, entry.Results, 1)
	_, ok, err = results.Lookup(ctx, "order-2")
	require.NoError(t, err)
	require.False(t, ok)
	for _, err := range log.errs() {
		assert.NoError(t, err, "a key that is not there is no error")
	}
	assert.Equal(t, []string{"redis entrecard save order", "redis entrecard save result", "redis entrecard lookup", "redis entrecard lookup"}, log.take(t))

	log.mu.Lock()
	defer log.mu.Unlock()
	assert.True(t, log.ctxOK, "every report carries the caller's context")
}

// TestDedupeClaimReportsEachPoll: a Claim waiting for another holder reports each poll, and
// returns once the holder finishes.
func TestDedupeClaimReportsEachPoll(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := callerCtx(t)
	holder := redisstore.NewDedupStore(srv.Client(t))
	log := newStoreLog()
	waiter := redisstore.NewDedupStore(srv.Client(t), redisstore.WithHooks(log.hooks()))

	done, err := holder.Claim(ctx, "evt-1")
	require.NoError(t, err)
	require.False(t, done)
	type answer struct {
		done bool
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		done, err := waiter.Claim(ctx, "evt-1")
		got <- answer{done, err}
	}()
	for range 2 { // two polls that found the key held
		select {
		case c := <-log.each:
			assert.Equal(t, "redis dedupe claim", c.Store+" "+c.Op)
			assert.NoError(t, c.Err)
		case <-ctx.Done():
			t.Fatal("the waiting Claim reported no poll")
		}
	}
	require.NoError(t, holder.Finish(ctx, "evt-1", true))
	a := <-got
	require.NoError(t, a.err)
	assert.True(t, a.done)
	assert.GreaterOrEqual(t, len(log.take(t)), 3, "two polls while held, one that found it done")
}

// TestStoreHooksOnDeadRedis: a failed round trip is reported with the error the method
// returns, whose text is the one without hooks.
func TestStoreHooksOnDeadRedis(t *testing.T) {
	t.Parallel()
	rdb := deadRedis(t)
	ctx := callerCtx(t)
	log := newStoreLog()
	opt := redisstore.WithHooks(log.hooks())

	calls := []struct {
		name string
		call func(opts ...redisstore.Option) error
	}{
		{"redis dedupe claim", func(opts ...redisstore.Option) error {
			_, err := redisstore.NewDedupStore(rdb, opts...).Claim(ctx, "k")
			return err
		}},
		{"redis ownership claim", func(opts ...redisstore.Option) error {
			_, err := redisstore.NewOwnershipStore(rdb, opts...).Claim(ctx, "pay-1", "ecster")
			return err
		}},
		{"redis ownership owner", func(opts ...redisstore.Option) error {
			_, _, err := redisstore.NewOwnershipStore(rdb, opts...).Owner(ctx, "pay-1")
			return err
		}},
		{"redis ownership move", func(opts ...redisstore.Option) error {
			return redisstore.NewOwnershipStore(rdb, opts...).Move(ctx, "pay-1", "ecster", "echelon", 1)
		}},
		{"redis watch add", func(opts ...redisstore.Option) error {
			return redisstore.NewWatchStore(rdb, opts...).Add(ctx, "pay-1", time.Now(), time.Now())
		}},
		{"redis watch claim", func(opts ...redisstore.Option) error {
			_, err := redisstore.NewWatchStore(rdb, opts...).Claim(ctx, time.Now(), time.Now(), 1)
			return err
		}},
		{"redis watch reschedule", func(opts ...redisstore.Option) error {
			_, err := redisstore.NewWatchStore(rdb, opts...).Reschedule(ctx, reconcile.Entry{ID: "pay-1", Claim: "1"})
			return err
		}},
		{"redis watch remove", func(opts ...redisstore.Option) error {
			_, err := redisstore.NewWatchStore(rdb, opts...).Remove(ctx, "pay-1", "")
			return err
		}},
		{"redis watch len", func(opts ...redisstore.Option) error {
			_, err := redisstore.NewWatchStore(rdb, opts...).Len(ctx)
			return err
		}},
		{"redis entrecard save order", func(opts ...redisstore.Option) error {
			_, _, err := redisstore.NewEntrecardStore(rdb, opts...).SaveOrder(ctx, entrecard.Order{ID: "order-1", Quantity: 1, Cost: 5})
			return err
		}},
		{"redis entrecard save result", func(opts ...redisstore.Option) error {
			_, _, err := redisstore.NewEntrecardStore(rdb, opts...).SaveResult(ctx, entrecard.Result{ID: "order-1", TransactionID: "t-1"})
			return err
		}},
		{"redis entrecard lookup", func(opts ...redisstore.Option) error {
			_, _, err := redisstore.NewEntrecardStore(rdb, opts...).Lookup(ctx, "order-1")
			return err
		}},
	}
	for _, c := range calls {
		without := c.call()
		requireStoreError(t, without, `store unavailable: redis: .*connection refused$`)
		with := c.call(opt)
		require.Error(t, with, c.name)
		assert.Equal(t, without.Error(), with.Error(), "%s: the same error with hooks", c.name)
		errs := log.errs()
		assert.Equal(t, []string{c.name}, log.take(t))
		if assert.Len(t, errs, 1, c.name) {
			assert.Equal(t, with, errs[0], "%s: the error the method returned is reported", c.name)
			assert.Equal(t, "store_unavailable", paykit.ErrorKind(errs[0]), c.name)
		}
	}
}
