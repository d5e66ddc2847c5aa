package reconcile_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/reconcile"
)

// A Router given the Reconciler as its Watcher watches every payment it creates, with no
// other code: the payment is on the list when the create reaches the provider, and the
// reconciler reads it through the Router until it is final.
func TestRouterEnrolsWithTheReconciler(t *testing.T) {
	t.Parallel()
	p := newStub("stub")
	clk := newClock()
	calls := &calls{}
	dedup := paykit.NewMemoryDedupStore(0)
	watch := reconcile.NewMemoryStore(0)
	opts := []reconcile.Option{reconcile.WithStore(watch), reconcile.WithClock(clk), reconcile.WithLimiter(paykit.NoLimit)}
	router, err := paykit.NewRouter([]paykit.Provider{p}, []paykit.Route{{Providers: []string{"stub"}}},
		paykit.WithWatcher(reconcile.NewWatcher(watch, opts...)))
	require.NoError(t, err)
	rec, err := reconcile.New(router, dedup, calls.fn, opts...)
	require.NoError(t, err)
	var watchedAtCreate int
	p.created = func(string) { watchedAtCreate, _ = rec.Watched(context.Background()) }

	pay, err := router.CreatePayment(context.Background(), paykit.PaymentRequest{Amount: paykit.Money{Amount: 100, Currency: "EUR"}})
	require.NoError(t, err)
	assert.Equal(t, 1, watchedAtCreate, "watched before the create was sent")

	p.set(pay.ID, paykit.StatusSucceeded)
	clk.Advance(reconcile.DefaultMinWait)
	pass, err := rec.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, pass)
	assert.Equal(t, []string{pay.ID + " succeeded reconcile"}, calls.get())
}
