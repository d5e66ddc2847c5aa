package reconcile_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/reconcile"
)

// opKey marks the context an Operation hook returned, so that the test sees what ran in it.
type opKey struct{}

// hookLog is a paykit.Hooks that keeps the operations and store calls reported to it.
type hookLog struct {
	mu     sync.Mutex
	starts []paykit.OperationStart
	ends   []paykit.OperationEnd
	stores []paykit.StoreCall
	inOp   []string // what ran in an operation's context: "read", "fn", "store claim", …
}

func (l *hookLog) hooks() *paykit.Hooks {
	return &paykit.Hooks{
		Operation: func(ctx context.Context, op paykit.OperationStart) (context.Context, func(paykit.OperationEnd)) {
			l.mu.Lock()
			l.starts = append(l.starts, op)
			l.mu.Unlock()
			return context.WithValue(ctx, opKey{}, op.Op), func(end paykit.OperationEnd) {
				l.mu.Lock()
				l.ends = append(l.ends, end)
				l.mu.Unlock()
			}
		},
		Store: func(ctx context.Context, s paykit.StoreCall) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.stores = append(l.stores, s)
			if ctx.Value(opKey{}) == paykit.OpReconcile {
				l.inOp = append(l.inOp, "store "+s.Op)
			}
		},
	}
}

func (l *hookLog) ran(ctx context.Context, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx.Value(opKey{}) == paykit.OpReconcile {
		l.inOp = append(l.inOp, what)
	}
}

// take returns what was reported since the last take, and forgets it.
func (l *hookLog) take() (starts []paykit.OperationStart, ends []paykit.OperationEnd, stores []string, inOp []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.stores {
		stores = append(stores, s.Store+" "+s.Op)
	}
	starts, ends, inOp = l.starts, l.ends, l.inOp
	l.starts, l.ends, l.stores, l.inOp = nil, nil, nil, nil
	return starts, ends, stores, inOp
}

// ctxStub is a stub whose reads tell log whether they ran in the reconcile operation.
type ctxStub struct {
	*stub
	log *hookLog
}

func (s ctxStub) GetPayment(ctx context.Context, id string) (*paykit.Payment, error) {
	s.log.ran(ctx, "read")
	return s.stub.GetPayment(ctx, id)
}

// TestReconcilerHooks: WithHooks reports one OpReconcile operation per read, with the
// provider, the payment id and the outcome; the read, fn and the dedupe store calls run in
// its context, and each dedupe store call is reported.
func TestReconcilerHooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := new(hookLog)
	p := ctxStub{stub: newStub("stub"), log: log}
	clk := newClock()
	failFn := false
	fn := func(ctx context.Context, n *paykit.Notification) error {
		log.ran(ctx, "fn")
		if failFn {
			return errFn
		}
		return nil
	}
	rec, err := reconcile.New(p, paykit.NewMemoryDedupStore(0), fn, reconcile.WithClock(clk),
		reconcile.WithLimiter(paykit.NoLimit), reconcile.WithBackoff(minWait, minWait), reconcile.WithHooks(log.hooks()))
	require.NoError(t, err)
	pass := func() {
		t.Helper()
		clk.Advance(minWait)
		_, err := rec.RunOnce(ctx)
		require.NoError(t, err)
	}
	want := paykit.OperationStart{Provider: "stub", Op: paykit.OpReconcile, PaymentID: "pay-1"}

	// A new state: read, claimed, fn run, finished.
	p.set("pay-1", paykit.StatusPending)
	require.NoError(t, rec.Watch(ctx, "pay-1"))
	pass()
	starts, ends, stores, inOp := log.take()
	assert.Equal(t, []paykit.OperationStart{want}, starts)
	assert.Equal(t, []paykit.OperationEnd{{PaymentID: "pay-1"}}, ends)
	assert.Equal(t, []string{"dedupe claim", "dedupe finish"}, stores)
	assert.Equal(t, []string{"read", "store claim", "fn", "store finish"}, inOp)

	// The same state again: a claim that finds it done, and no error.
	pass()
	starts, ends, stores, inOp = log.take()
	assert.Equal(t, []paykit.OperationStart{want}, starts)
	assert.Equal(t, []paykit.OperationEnd{{PaymentID: "pay-1"}}, ends)
	assert.Equal(t, []string{"dedupe claim"}, stores)
	assert.Equal(t, []string{"read", "store claim"}, inOp)

	// A read that fails: its error is the outcome, and the store is not asked.
	p.mu.Lock()
	p.fail["pay-1"] = &paykit.Error{Provider: "stub", Kind: paykit.ErrUnavailable, StatusCode: 503}
	p.mu.Unlock()
	pass()
	starts, ends, stores, _ = log.take()
	assert.Equal(t, []paykit.OperationStart{want}, starts)
	require.Len(t, ends, 1)
	assert.Equal(t, "pay-1", ends[0].PaymentID)
	assert.ErrorIs(t, ends[0].Err, paykit.ErrUnavailable)
	assert.Empty(t, stores)

	// fn fails on a new state: its error is the outcome.
	p.set("pay-1", paykit.StatusSucceeded)
	failFn = true
	pass()
	_, ends, stores, _ = log.take()
	require.Len(t, ends, 1)
	assert.ErrorIs(t, ends[0].Err, errFn)
	assert.Equal(t, "other", paykit.ErrorKind(ends[0].Err))
	assert.Equal(t, []string{"dedupe claim", "dedupe finish"}, stores)

	// The canonical id the provider answers is the operation's.
	failFn = false
	p.set("pay-1", paykit.StatusSucceeded, func(pay *paykit.Payment) { pay.ID = "PAY-1" })
	pass()
	_, ends, _, _ = log.take()
	assert.Equal(t, []paykit.OperationEnd{{PaymentID: "PAY-1"}}, ends)
	assert.Zero(t, mustWatched(t, rec), "final: off the list")
}

// TestReconcilerWithoutHooks: no hooks, no reports, and the same pass.
func TestReconcilerWithoutHooks(t *testing.T) {
	t.Parallel()
	r := newRig(t, reconcile.WithHooks(nil))
	r.p.set("pay-1", paykit.StatusSucceeded)
	require.NoError(t, r.rec.Watch(context.Background(), "pay-1"))
	r.clk.Advance(minWait)
	assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, r.pass(t))
}

func mustWatched(t *testing.T, rec *reconcile.Reconciler) int {
	t.Helper()
	n, err := rec.Watched(context.Background())
	require.NoError(t, err)
	return n
}
