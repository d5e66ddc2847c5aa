package reconcile_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/reconcile"
)

const minWait = 30 * time.Second

// rig is a stub provider, its webhook handler and a Reconciler sharing one DedupStore, on a
// clock moved by hand.
type rig struct {
	p       *stub
	clk     *clock
	dedup   paykit.DedupStore
	calls   *calls
	rec     *reconcile.Reconciler
	hook    http.Handler
	reports []reconcile.Report
	mu      sync.Mutex
}

func newRig(t *testing.T, opts ...reconcile.Option) *rig {
	t.Helper()
	r := &rig{p: newStub("stub"), clk: newClock(), dedup: paykit.NewMemoryDedupStore(0), calls: &calls{}}
	base := []reconcile.Option{reconcile.WithClock(r.clk), reconcile.WithLimiter(paykit.NoLimit),
		reconcile.WithBackoff(minWait, time.Hour),
		reconcile.WithReport(func(_ context.Context, rep reconcile.Report) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.reports = append(r.reports, rep)
		})}
	var err error
	r.rec, err = reconcile.New(r.p, r.dedup, r.calls.fn, append(base, opts...)...)
	require.NoError(t, err)
	r.hook = paykit.NewWebhookHandler(r.p, r.calls.fn, paykit.WithDedupStore(r.dedup), paykit.WithOncePerState())
	return r
}

// notify delivers a notification of id (with a signed key when key is not empty).
func (r *rig) notify(t *testing.T, id, key string) int {
	t.Helper()
	target := "/notify?id=" + id
	if key != "" {
		target += "&key=" + key
	}
	rec := httptest.NewRecorder()
	r.hook.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, nil))
	return rec.Code
}

func (r *rig) pass(t *testing.T) reconcile.Pass {
	t.Helper()
	p, err := r.rec.RunOnce(context.Background())
	require.NoError(t, err)
	return p
}

func (r *rig) watched(t *testing.T) int {
	t.Helper()
	n, err := r.rec.Watched(context.Background())
	require.NoError(t, err)
	return n
}

func (r *rig) reported() []reconcile.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]reconcile.Report(nil), r.reports...)
}

// A payment whose notifications never come: the reconciler reads it until it is final and
// runs fn once for each state it read, then stops reading it.
func TestReconcilerFindsTheFinalStateNoNotificationReported(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	r.p.set("pay-1", paykit.StatusPending)
	require.NoError(t, r.rec.Watch(ctx, "pay-1"))

	assert.Equal(t, reconcile.Pass{}, r.pass(t), "nothing is due before MinWait")
	r.clk.Advance(minWait)
	assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1}, r.pass(t))
	assert.Equal(t, reconcile.Pass{}, r.pass(t), "read once per pass")

	r.p.set("pay-1", paykit.StatusSucceeded) // the customer paid; the notification was lost
	r.clk.Advance(2 * minWait)
	assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, r.pass(t))
	assert.Equal(t, []string{"pay-1 pending reconcile", "pay-1 succeeded reconcile"}, r.calls.get())
	assert.Zero(t, r.watched(t), "a final payment leaves the list")

	r.clk.Advance(24 * time.Hour)
	assert.Equal(t, reconcile.Pass{}, r.pass(t))
	assert.Equal(t, 2, r.p.reads("pay-1"))
	assert.Equal(t, int64(2), r.rec.Stats().Ran)
}

// The webhook and the poll see one state in either order: fn runs once.
func TestReconcilerAndWebhookRunFnOncePerState(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "signed-event-1"} {
		t.Run("webhook first, key "+key, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.p.set("pay-1", paykit.StatusSucceeded)
			require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
			require.Equal(t, http.StatusOK, r.notify(t, "pay-1", key))
			r.clk.Advance(minWait)
			assert.Equal(t, reconcile.Pass{Polls: 1, Final: 1}, r.pass(t), "the poll finds the state processed")
			assert.Equal(t, []string{"pay-1 succeeded changed"}, r.calls.get())
		})
		t.Run("poll first, key "+key, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.p.set("pay-1", paykit.StatusSucceeded)
			require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
			r.clk.Advance(minWait)
			assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, r.pass(t))
			require.Equal(t, http.StatusOK, r.notify(t, "pay-1", key))
			require.Equal(t, http.StatusOK, r.notify(t, "pay-1", key))
			assert.Equal(t, []string{"pay-1 succeeded reconcile"}, r.calls.get(), "the notification finds the state processed")
		})
	}
}

// Webhooks and polls racing on one state, many at once: fn runs once.
func TestReconcilerRacingWebhooksRunFnOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, reconcile.WithWorkers(8))
	ctx := context.Background()
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "pay-" + string(rune('a'+i))
		r.p.set(ids[i], paykit.StatusSucceeded)
		require.NoError(t, r.rec.Watch(ctx, ids[i]))
	}
	r.clk.Advance(minWait)
	var wg sync.WaitGroup
	for _, id := range ids {
		for range 3 {
			wg.Add(1)
			go func() { defer wg.Done(); assert.Equal(t, http.StatusOK, r.notify(t, id, "")) }()
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.pass(t) }()
	wg.Wait()
	seen := map[string]int{}
	for _, c := range r.calls.get() {
		seen[c[:len("pay-a")]]++
	}
	for _, id := range ids {
		assert.Equal(t, 1, seen[id], id)
	}
}

// A failing fn gives the state back: the payment is read again MinWait later and fn runs.
func TestReconcilerReadsAgainAfterFnFailed(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.p.set("pay-1", paykit.StatusFailed)
	require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
	r.calls.fail = 1
	r.clk.Advance(minWait)
	assert.Equal(t, reconcile.Pass{Polls: 1, Errors: 1}, r.pass(t))
	assert.Equal(t, 1, r.watched(t))
	r.clk.Advance(minWait)
	assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, r.pass(t))
	assert.Equal(t, []string{"pay-1 failed reconcile"}, r.calls.get())
}

// The waits double from MinWait to MaxWait and start again when the state changes.
func TestReconcilerBackoff(t *testing.T) {
	t.Parallel()
	r := newRig(t, reconcile.WithBackoff(time.Minute, 8*time.Minute))
	r.p.set("pay-1", paykit.StatusPending)
	require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
	// The read times, in minutes after Watch, found by stepping the clock a minute at a time.
	var at []int
	for m := 1; m <= 40; m++ {
		r.clk.Advance(time.Minute)
		if m == 20 {
			r.p.set("pay-1", paykit.StatusAuthorized)
		}
		if r.pass(t).Polls == 1 {
			at = append(at, m)
		}
	}
	// 1, then +1, +2, +4, +8, +8 …; the read at 24 finds the new state: +1, +2, +4, +8.
	assert.Equal(t, []int{1, 2, 4, 8, 16, 24, 25, 27, 31, 39}, at)
}

// A payment that expires before its next read is read just after ExpiresAt.
func TestReconcilerReadsJustAfterExpiry(t *testing.T) {
	t.Parallel()
	r := newRig(t, reconcile.WithBackoff(time.Minute, time.Hour))
	expires := r.clk.Now().Add(150 * time.Second)
	r.p.set("pay-1", paykit.StatusPending, func(p *paykit.Payment) { p.ExpiresAt = expires })
	require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
	r.clk.Advance(time.Minute)
	require.Equal(t, 1, r.pass(t).Polls)
	r.clk.Advance(time.Minute)
	require.Equal(t, 1, r.pass(t).Polls) // next would be 4 min after Watch; expiry is at 2.5
	r.p.set("pay-1", paykit.StatusExpired, func(p *paykit.Payment) { p.ExpiresAt = expires })
	r.clk.Advance(time.Minute)
	assert.Zero(t, r.pass(t).Polls, "3 min: not yet")
	r.clk.Advance(30 * time.Second)
	assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, r.pass(t), "3.5 min: ExpiresAt + MinWait")
}

// Payments that cannot be read back, or stay not final past their expiry, are reported and
// dropped, not read for ever.
func TestReconcilerReportsWhatItGivesUp(t *testing.T) {
	t.Parallel()
	r := newRig(t, reconcile.WithBackoff(time.Minute, time.Hour), reconcile.WithNotFoundFor(2*time.Hour),
		reconcile.WithExpiryGrace(3*time.Hour), reconcile.WithMaxAge(48*time.Hour))
	ctx := context.Background()
	expires := r.clk.Now().Add(time.Hour)
	r.p.set("stuck", paykit.StatusPending, func(p *paykit.Payment) { p.ExpiresAt = expires })
	r.p.set("authorized", paykit.StatusAuthorized)
	for _, id := range []string{"missing", "stuck", "authorized"} {
		require.NoError(t, r.rec.Watch(ctx, id))
	}
	for range 60 * 50 {
		r.clk.Advance(time.Minute)
		r.pass(t)
	}
	reps := r.reported()
	require.Len(t, reps, 3)
	byID := map[string]reconcile.Report{}
	for _, rep := range reps {
		byID[rep.ID] = rep
	}
	assert.Equal(t, reconcile.ReasonNotFound, byID["missing"].Reason)
	assert.ErrorIs(t, byID["missing"].Err, paykit.ErrNotFound)
	assert.Equal(t, reconcile.ReasonExpired, byID["stuck"].Reason)
	assert.Equal(t, paykit.StatusPending, byID["stuck"].Payment.Status)
	assert.Equal(t, reconcile.ReasonMaxAge, byID["authorized"].Reason)
	assert.Zero(t, r.watched(t))
	st := r.rec.Stats()
	assert.Equal(t, [3]int64{1, 1, 1}, [3]int64{st.NotFound, st.Expired, st.TooOld})
	// Bounded reads: doubling waits up to MaxWait (1 h) over the 48 h of MaxAge.
	for _, id := range []string{"missing", "stuck", "authorized"} {
		assert.Less(t, r.p.reads(id), 60, id)
	}
}

// A read that fails (5xx) is retried on the backoff, the payment kept.
func TestReconcilerKeepsAPaymentWhoseReadFailed(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.p.set("pay-1", paykit.StatusSucceeded)
	r.p.fail["pay-1"] = &paykit.Error{Provider: "stub", StatusCode: 503, Kind: paykit.ErrUnavailable}
	require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
	r.clk.Advance(minWait)
	assert.Equal(t, reconcile.Pass{Polls: 1, Errors: 1}, r.pass(t))
	r.clk.Advance(2 * minWait)
	assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, r.pass(t))
}

// Every read waits on the Reconciler's limiter.
func TestReconcilerReadsWaitOnItsLimiter(t *testing.T) {
	t.Parallel()
	l := &countingLimiter{}
	r := newRig(t, reconcile.WithLimiter(l))
	for _, id := range []string{"a", "b", "c"} {
		r.p.set(id, paykit.StatusPending)
		require.NoError(t, r.rec.Watch(context.Background(), id))
	}
	r.clk.Advance(minWait)
	assert.Equal(t, 3, r.pass(t).Polls)
	assert.Equal(t, 3, l.n)
}

// A Reconciler's default limiter keeps reads under its budget: 5 per second.
func TestReconcilerDefaultBudget(t *testing.T) {
	t.Parallel()
	p := newStub("stub")
	var mu sync.Mutex
	var starts []time.Time
	fn := func(context.Context, *paykit.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		starts = append(starts, time.Now())
		return nil
	}
	clk := newClock()
	rec, err := reconcile.New(p, paykit.NewMemoryDedupStore(0), fn, reconcile.WithClock(clk), reconcile.WithWorkers(8))
	require.NoError(t, err)
	for i := range 6 {
		id := "p" + string(rune('0'+i))
		p.set(id, paykit.StatusSucceeded)
		require.NoError(t, rec.Watch(context.Background(), id))
	}
	clk.Advance(reconcile.DefaultMinWait)
	begin := time.Now()
	pass, err := rec.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 6, pass.Ran)
	require.Len(t, starts, 6)
	// 5 per second: the sixth read cannot start until a second after the first, which
	// started after begin. (A lower bound only, which load cannot break; the times fn saw
	// are in completion order, so their spread is not the limiter's.)
	assert.GreaterOrEqual(t, time.Since(begin), time.Second)
}

// Run stops when its context ends, and RunOnce given an ended context reads nothing and
// keeps every payment watched.
func TestReconcilerStopsOnItsContext(t *testing.T) {
	t.Parallel()
	r := newRig(t, reconcile.WithInterval(time.Minute))
	r.p.set("pay-1", paykit.StatusPending)
	require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
	r.clk.Advance(minWait)

	ended, cancel := context.WithCancel(context.Background())
	cancel()
	pass, err := r.rec.RunOnce(ended)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, pass.Polls)
	assert.Equal(t, 1, r.watched(t))

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.rec.Run(ctx) }()
	<-r.clk.waiting // the first pass is over: Run waits for its interval
	assert.Equal(t, []string{"pay-1 pending reconcile"}, r.calls.get())
	stop()
	assert.NoError(t, <-done)
}

// Watch refuses an id paykit's rule refuses, and New what it cannot run without.
func TestReconcilerRefusesBadInput(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	assert.ErrorIs(t, r.rec.Watch(context.Background(), "a\nb"), paykit.ErrInvalidRequest)
	assert.ErrorIs(t, r.rec.Watch(context.Background(), ""), paykit.ErrInvalidRequest)
	_, err := reconcile.New(nil, paykit.NewMemoryDedupStore(0), r.calls.fn)
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
	_, err = reconcile.New(r.p, nil, r.calls.fn)
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
}

// failingStore is a Store whose every call fails.
type failingStore struct{ reconcile.Store }

var errDown = errors.New("store down")

func (failingStore) Add(context.Context, string, time.Time, time.Time) error { return errDown }
func (failingStore) Claim(context.Context, time.Time, time.Time, int) ([]reconcile.Entry, error) {
	return nil, errDown
}

func TestReconcilerStoreErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t, reconcile.WithStore(failingStore{}))
	err := r.rec.Watch(context.Background(), "pay-1")
	assert.ErrorIs(t, err, paykit.ErrStoreUnavailable)
	assert.ErrorIs(t, err, errDown)
	_, err = r.rec.RunOnce(context.Background())
	assert.ErrorIs(t, err, paykit.ErrStoreUnavailable)
}
