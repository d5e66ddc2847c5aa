package paykit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recWatcher is a Watcher that records its calls in the call logs of the provider stubs
// (a shared log shows the order: watch before create).
type recWatcher struct {
	mu    sync.Mutex
	err   error
	ids   map[string]bool
	stubs []*routeStub
}

func newRecWatcher(stubs ...*routeStub) *recWatcher {
	return &recWatcher{ids: map[string]bool{}, stubs: stubs}
}

func (w *recWatcher) Watch(_ context.Context, id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.ids[id] = true
	for _, s := range w.stubs {
		s.log("watch " + id)
	}
	return nil
}

func (w *recWatcher) Unwatch(_ context.Context, id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.ids, id)
	return nil
}

func (w *recWatcher) watched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for id := range w.ids {
		out = append(out, id)
	}
	return out
}

// formStub is a routeStub whose ids have a form of their own (IDMaker, IDChecker).
type formStub struct {
	*routeStub
	prefix string
}

func (s formStub) NewID() string { return s.prefix + "0001" }
func (s formStub) CheckID(id string) error {
	if !strings.HasPrefix(id, s.prefix) {
		return &Error{Op: "check id", Kind: ErrInvalidRequest, Unprocessed: true}
	}
	return nil
}

// A Router with a Watcher watches the payment before the create is sent.
func TestRouterWatchesBeforeTheCreateIsSent(t *testing.T) {
	t.Parallel()
	a := newRouteStub("a", Capabilities{Capture: true})
	w := newRecWatcher(a)
	r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}}, WithWatcher(w))
	_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "order-1", Amount: sek(100)})
	require.NoError(t, err)
	_, err = r.Capture(context.Background(), "order-1", Money{})
	require.NoError(t, err)
	assert.Equal(t, []string{"watch order-1", "create order-1", "watch order-1", "capture order-1", "watch order-1"}, a.callLog(),
		"watched before the create, and again before and after the capture (a poll during it may have dropped it)")
}

// A Watch that fails sends nothing: a payment is never created unwatched.
func TestRouterWatchFailureSendsNothing(t *testing.T) {
	t.Parallel()
	a := newRouteStub("a", Capabilities{Capture: true})
	w := newRecWatcher(a)
	w.err = errors.New("redis: connection refused")
	r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}}, WithWatcher(w))
	_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "order-1", Amount: sek(100)})
	require.ErrorIs(t, err, ErrStoreUnavailable)
	assert.Contains(t, err.Error(), "watch store")
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "order-1", pe.PaymentID)
	assert.Empty(t, a.callLog(), "nothing sent")
	_, err = r.Capture(context.Background(), "order-1", Money{})
	require.ErrorIs(t, err, ErrStoreUnavailable)
	assert.Empty(t, a.callLog(), "nothing sent")
}

// A failover to a provider of another id form watches the new id before the create under
// it, and takes the first id, under which nothing was created, off the list.
func TestRouterWatchesTheNewIDOfAFailover(t *testing.T) {
	t.Parallel()
	a, b := newRouteStub("a", Capabilities{}), newRouteStub("b", Capabilities{})
	a.createErr = []error{unprocessed429}
	w := newRecWatcher(b)
	r := newTestRouter(t, []Provider{formStub{a, "a-"}, formStub{b, "b-"}}, []Route{{Providers: []string{"a", "b"}}}, WithWatcher(w))
	pay, err := r.CreatePayment(context.Background(), PaymentRequest{Amount: sek(100)})
	require.NoError(t, err)
	assert.Equal(t, "b-0001", pay.ID)
	assert.Equal(t, []string{"watch a-0001", "watch b-0001", "create b-0001"}, b.callLog(), "each id watched before its create")
	assert.Equal(t, []string{"b-0001"}, w.watched(), "a-0001 was unwatched: nothing exists under it")
}

// The state a webhook processed through NewWebhookHandler over the Router (named "router")
// and the state a reconciler polled through RunOncePerState have one key: the provider's
// name comes from the fetched Payment, not from the handler. (Before, the Router's handler
// keyed on "router" and the poll ran fn a second time.)
func TestRouterWebhookAndPollShareTheStateKey(t *testing.T) {
	t.Parallel()
	a := newRouteStub("a", Capabilities{})
	r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}})
	pay, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "order-1", Amount: sek(100)})
	require.NoError(t, err)
	store := NewMemoryDedupStore(0)
	var runs []string
	fn := func(_ context.Context, n *Notification) error { runs = append(runs, n.Event); return nil }
	for _, h := range []http.Handler{
		NewWebhookHandler(r, fn, WithDedupStore(store)),
		r.WebhookHandler("/webhooks", fn, WithDedupStore(store)),
		NewWebhookHandler(a, fn, WithDedupStore(store)),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhooks/a?id=order-1", nil))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	ran, err := RunOncePerState(context.Background(), store, pay, func(ctx context.Context) error {
		return fn(ctx, &Notification{Event: "poll", Payment: pay})
	})
	require.NoError(t, err)
	assert.False(t, ran)
	assert.Len(t, runs, 1, "one state, one run: %v", runs)
}

// The key of a state keeps the bytes webhook handlers have always claimed, so a deployment
// that upgrades does not run fn again for notifications it processed before.
func TestPaymentDedupKeyKeepsTheExistingBytes(t *testing.T) {
	t.Parallel()
	pay := &Payment{Provider: "ecredits", ID: "abc", Status: StatusSucceeded, Captured: Money{Amount: 100, Currency: "ECS"}}
	assert.Equal(t, "8:ecredits|state|3:abc|succeeded|100ECS|0", PaymentDedupKey(pay, "x", "y"))
	assert.Equal(t, "1:x|state|1:y|pending|0|0", PaymentDedupKey(&Payment{Status: StatusPending}, "x", "y"))
}

// RunOncePerState: a failing fn (or a panic) gives the key back; success records it.
func TestRunOncePerState(t *testing.T) {
	t.Parallel()
	store := NewMemoryDedupStore(0)
	pay := &Payment{Provider: "a", ID: "p", Status: StatusFailed}
	ctx := context.Background()
	ran, err := RunOncePerState(ctx, store, pay, func(context.Context) error { return errors.New("no") })
	assert.False(t, ran)
	assert.EqualError(t, err, "no")
	ran, err = RunOncePerState(ctx, store, pay, func(context.Context) error { panic("boom") })
	assert.False(t, ran)
	assert.ErrorContains(t, err, "boom")
	ran, err = RunOncePerState(ctx, store, pay, func(context.Context) error { return nil })
	assert.True(t, ran)
	assert.NoError(t, err)
	ran, err = RunOncePerState(ctx, store, pay, func(context.Context) error { t.Fatal("ran twice"); return nil })
	assert.False(t, ran)
	assert.NoError(t, err)
}

// WithOncePerState reaches the Router's handlers: two signed events that fetch one state
// run fn once with it, twice without it (each signed identity is its own event).
func TestRouterWebhookHandlerOncePerState(t *testing.T) {
	t.Parallel()
	for _, once := range []bool{false, true} {
		a := newRouteStub("a", Capabilities{})
		r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}})
		_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "order-1", Amount: sek(100)})
		require.NoError(t, err)
		runs := 0
		opts := []WebhookOption{}
		if once {
			opts = append(opts, WithOncePerState())
		}
		h := r.WebhookHandler("/webhooks", func(context.Context, *Notification) error { runs++; return nil }, opts...)
		for _, key := range []string{"e1", "e2", "e1"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhooks/a?id=order-1&key="+key, nil))
			require.Equal(t, http.StatusOK, rec.Code)
		}
		want := 2
		if once {
			want = 1
		}
		assert.Equal(t, want, runs, "once per state: %v", once)
	}
}
