package redisstore_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/reconcile"
	"github.com/paykit/paykit/redisstore"
)

// watchProvider is a provider whose payments the test sets; its notifications name the
// payment in the "id" query parameter and carry no signed identity (the handler keys them on
// the fetched state, as the reconciler's polls are). GetPayment of an id in hang blocks until
// the test ends: a replica stuck there is as good as dead.
type watchProvider struct {
	mu      sync.Mutex
	pays    map[string]paykit.Status
	hang    map[string]bool
	hung    chan string
	release chan struct{}
}

func newWatchProvider() *watchProvider {
	return &watchProvider{pays: map[string]paykit.Status{}, hang: map[string]bool{}, hung: make(chan string, 100), release: make(chan struct{})}
}

func (p *watchProvider) set(id string, st paykit.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pays[id] = st
}

func (p *watchProvider) Name() string { return "stub" }
func (p *watchProvider) Capabilities() paykit.Capabilities {
	return paykit.Capabilities{Webhooks: true}
}
func (p *watchProvider) CreatePayment(context.Context, paykit.PaymentRequest) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (p *watchProvider) Capture(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (p *watchProvider) Refund(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (p *watchProvider) Cancel(context.Context, string, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}

func (p *watchProvider) GetPayment(ctx context.Context, id string) (*paykit.Payment, error) {
	p.mu.Lock()
	st, ok := p.pays[id]
	hang := p.hang[id]
	p.mu.Unlock()
	if hang {
		p.hung <- id
		select {
		case <-p.release:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	}
	if !ok {
		return nil, &paykit.Error{Provider: "stub", StatusCode: 404, Kind: paykit.ErrNotFound}
	}
	return &paykit.Payment{Provider: "stub", ID: id, Status: st, Amount: paykit.Money{Amount: 100, Currency: "EUR"}}, nil
}

func (p *watchProvider) ParseNotification(r *http.Request) (*paykit.Notification, error) {
	return &paykit.Notification{Provider: "stub", PaymentID: r.URL.Query().Get("id"), Event: "changed"}, nil
}

// watchClock is a reconcile.Clock moved by hand, shared by the replicas.
type watchClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *watchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *watchClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }
func (c *watchClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The Store's contract on Redis: leases, lost claims, due order, Add again.
func TestWatchStoreLeases(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	s := redisstore.NewWatchStore(srv.Client(t))
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.Add(ctx, "a", t0, t0.Add(time.Minute)))
	require.NoError(t, s.Add(ctx, "b", t0, t0.Add(2*time.Minute)))
	require.NoError(t, s.Add(ctx, "b", t0.Add(time.Second), t0.Add(time.Hour)), "later: changes nothing")

	got, err := s.Claim(ctx, t0, t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = s.Claim(ctx, t0.Add(5*time.Minute), t0.Add(10*time.Minute), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	a := got[0]
	assert.Equal(t, "a", a.ID)
	assert.True(t, a.Since.Equal(t0))
	got, err = s.Claim(ctx, t0.Add(5*time.Minute), t0.Add(10*time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "b", got[0].ID)

	// Both holders die; their leases end at 10 min and another replica claims both.
	again, err := s.Claim(ctx, t0.Add(10*time.Minute), t0.Add(20*time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, again, 2)
	ok, err := s.Reschedule(ctx, a)
	require.NoError(t, err)
	assert.False(t, ok, "the first claim of a no longer holds")
	for _, e := range again {
		e.Polls, e.State, e.Due = 3, "pending|0|0", t0.Add(time.Hour)
		ok, err := s.Reschedule(ctx, e)
		require.NoError(t, err)
		assert.True(t, ok)
	}
	got, err = s.Claim(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, e := range got {
		assert.Equal(t, 3, e.Polls)
		assert.Equal(t, "pending|0|0", e.State)
		assert.True(t, e.Since.Equal(t0))
	}
	ok, err = s.Remove(ctx, "a", "stale")
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = s.Remove(ctx, got[0].ID, got[0].Claim)
	require.NoError(t, err)
	assert.True(t, ok, "removed under its claim")
	n, err := s.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// The Redis watch store forgets entries DefaultStoreRetention after their first watch.
func TestWatchStoreRetention(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	s := redisstore.NewWatchStore(srv.Client(t))
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.Add(ctx, "old", t0, t0.Add(time.Minute)))
	later := t0.Add(reconcile.DefaultStoreRetention + time.Hour)
	require.NoError(t, s.Add(ctx, "new", later, later))
	got, err := s.Claim(ctx, later, later.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "new", got[0].ID)
	n, err := s.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// Three replicas, each with a Reconciler and a webhook handler, share Redis (dedupe store and
// watch list). Webhooks (two per state, to random replicas) and the three reconcilers' passes
// race on every payment through two states: fn runs once per state. Then one reconciler dies
// mid-claim (stuck in its reads, holding its batch): when its lease ends the others read
// every payment it held.
func TestReconcilerReplicasShareRedis(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	p := newWatchProvider()
	clk := &watchClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	runs := map[string]int{}
	fn := func(_ context.Context, n *paykit.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		runs[n.PaymentID+" "+string(n.Payment.Status)]++
		return nil
	}
	const lease = time.Minute
	type replica struct {
		rec  *reconcile.Reconciler
		hook http.Handler
	}
	newReplica := func(prov paykit.Provider) replica {
		rdb := srv.Client(t)
		dedup := redisstore.NewDedupStore(rdb)
		rec, err := reconcile.New(prov, dedup, fn, reconcile.WithStore(redisstore.NewWatchStore(rdb)),
			reconcile.WithClock(clk), reconcile.WithLimiter(paykit.NoLimit), reconcile.WithBackoff(time.Second, time.Second),
			reconcile.WithLease(lease), reconcile.WithBatch(7), reconcile.WithWorkers(3))
		require.NoError(t, err)
		return replica{rec, paykit.NewWebhookHandler(prov, fn, paykit.WithDedupStore(dedup))}
	}
	reps := []replica{newReplica(p), newReplica(p), newReplica(p)}

	const n = 60
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "pay-" + strconv.Itoa(i)
		p.set(ids[i], paykit.StatusPending)
		require.NoError(t, reps[i%3].rec.Watch(ctx, ids[i]))
	}
	r := rand.New(rand.NewPCG(1, 2))
	race := func(st paykit.Status) {
		for _, id := range ids {
			p.set(id, st)
		}
		clk.Advance(time.Second)
		var wg sync.WaitGroup
		for _, rep := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := rep.rec.RunOnce(ctx)
				assert.NoError(t, err)
			}()
		}
		for _, id := range ids {
			for range 2 {
				h := reps[r.IntN(3)].hook
				wg.Add(1)
				go func() {
					defer wg.Done()
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhooks/stub?id="+id, nil))
					assert.Equal(t, http.StatusOK, rec.Code)
				}()
			}
		}
		wg.Wait()
	}
	race(paykit.StatusAuthorized)
	race(paykit.StatusSucceeded)
	mu.Lock()
	for _, id := range ids {
		assert.Equal(t, 1, runs[id+" authorized"], id)
		assert.Equal(t, 1, runs[id+" succeeded"], id)
	}
	assert.Len(t, runs, 2*n, "no other state ran fn: %v", runs)
	mu.Unlock()
	// The payments were final: a pass after the race drops those the race left listed.
	clk.Advance(time.Second)
	for _, rep := range reps {
		_, err := rep.rec.RunOnce(ctx)
		require.NoError(t, err)
	}
	left, err := reps[0].rec.Watched(ctx)
	require.NoError(t, err)
	assert.Zero(t, left)

	// A replica dies mid-claim.
	dying := newWatchProvider()
	dead := newReplica(dying)
	const m = 10
	doomed := make([]string, m)
	for i := range doomed {
		doomed[i] = "late-" + strconv.Itoa(i)
		dying.hang[doomed[i]] = true
		p.set(doomed[i], paykit.StatusSucceeded)
		require.NoError(t, dead.rec.Watch(ctx, doomed[i]))
	}
	clk.Advance(time.Second)
	deadCtx, kill := context.WithCancel(ctx)
	deadDone := make(chan struct{})
	go func() { defer close(deadDone); _, _ = dead.rec.RunOnce(deadCtx) }()
	for range 3 { // its three workers are stuck in reads, its batch of 7 claimed
		<-dying.hung
	}
	read := 0
	for _, rep := range reps {
		pass, err := rep.rec.RunOnce(ctx)
		require.NoError(t, err)
		read += pass.Polls
	}
	assert.Equal(t, m-7, read, "only what the dead replica did not claim, until its lease ends")
	clk.Advance(lease)
	for _, rep := range reps {
		_, err := rep.rec.RunOnce(ctx)
		require.NoError(t, err)
	}
	mu.Lock()
	for _, id := range doomed {
		assert.Equal(t, 1, runs[id+" succeeded"], "%s was picked up by the others", id)
	}
	mu.Unlock()
	left, err = reps[0].rec.Watched(ctx)
	require.NoError(t, err)
	assert.Zero(t, left)
	kill()
	<-deadDone
	assert.Positive(t, dead.rec.Stats().ClaimsLost, "the dead replica's late give-back found its claims gone")
	left, err = reps[0].rec.Watched(ctx)
	require.NoError(t, err)
	assert.Zero(t, left, "and changed nothing")
}

// A Watch while the payment is being read ends the reader's claim (see reconcile.Store).
func TestWatchStoreAddEndsAClaim(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	s := redisstore.NewWatchStore(srv.Client(t))
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.Add(ctx, "a", t0, t0))
	got, err := s.Claim(ctx, t0, t0.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.NoError(t, s.Add(ctx, "a", t0.Add(time.Second), t0.Add(time.Minute)))
	ok, err := s.Remove(ctx, "a", got[0].Claim)
	require.NoError(t, err)
	assert.False(t, ok)
	again, err := s.Claim(ctx, t0.Add(time.Minute), t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Len(t, again, 1)
}
