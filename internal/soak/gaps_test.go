package soak_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// The Router's WebhookHandler serves each provider at its own path, and a merchant cannot
// know before the call which provider takes the payment (failover decides). With
// "{provider}" in the NotifyURL the Router names the provider it sends the create to, so a
// payment that failed over notifies the endpoint of the provider that took it. (Found by the
// soak: with the URL passed unchanged the notifications went to the first provider's
// endpoint, which refused them, and fn never ran.)
func TestRouterFailoverNotifiesTheProviderThatTookIt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	defer shop.Close()
	ecs := ecstertest.NewServer(ecstertest.Config{NotificationHeader: oenHeader, NotificationHeaderValue: oenValue})
	defer ecs.Close()
	ech := echelontest.NewServer(echelontest.Config{RateLimit: echelontest.NoRateLimit, MaxDeliveryAttempts: 5})
	defer ech.Close()
	ecsClient, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey,
		BaseURL: ecs.URL, NotificationHeader: oenHeader, NotificationHeaderValue: oenValue},
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond}))
	require.NoError(t, err)
	echClient, err := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret,
		BaseURL: ech.URL, PaymentMethod: echelontest.MethodVirtualAccount}, paykit.WithLimiter(noLimit{}))
	require.NoError(t, err)
	// A shop that sells in SEK through Ecster, and through EchelonPay when Ecster refuses.
	router, err := paykit.NewRouter([]paykit.Provider{ecsClient, echClient}, []paykit.Route{
		{Name: "SEK", Match: paykit.Match{Currencies: []string{"SEK"}}, Providers: []string{nameEcster, nameEchelon}},
	})
	require.NoError(t, err)
	var mu sync.Mutex
	var ran []string
	mux.Handle("/webhooks/", router.WebhookHandler("/webhooks", func(_ context.Context, n *paykit.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, n.Provider+" "+n.PaymentID)
		return nil
	}))

	sek := paykit.Money{Amount: 49900, Currency: "SEK"}
	req := paykit.PaymentRequest{
		ID: ecster.NewID(), Amount: sek,
		Items: []paykit.Item{{Name: "Jacket", Quantity: 1, UnitAmount: sek, VATRate: 2500}},
	}
	req.NotifyURL = shop.URL + "/webhooks/" + paykit.NotifyPlaceholder
	ecs.FailNext(3, http.StatusTooManyRequests, ecstertest.OnRoute(http.MethodPost, ecstertest.RouteCarts))
	pay, err := router.CreatePayment(ctx, req)
	require.NoError(t, err)
	require.Equal(t, nameEchelon, pay.Provider, "Ecster refused the cart three times: the payment failed over")
	_, err = ech.Pay(req.ID)
	require.NoError(t, err)

	assert.NoError(t, ech.WaitDelivered(ctx, req.ID), "EchelonPay's callback reaches the Router's EchelonPay endpoint")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{nameEchelon + " " + req.ID}, ran, "fn ran once for the paid payin")
}

// gateStub is a provider whose calls can be held: a create of a held id blocks until
// released and then creates (a request in flight that lands later); a GetPayment of a held
// id blocks until released and then answers from what exists by then.
type gateStub struct {
	name       string
	mu         sync.Mutex
	made       map[string]bool
	refuse     int                      // the next creates answer an unprocessed 429
	heldCreate map[string]chan struct{} // id → closed to let the held create land
	heldGet    map[string]chan struct{} // id → closed to let the held GetPayment answer
	arrived    chan string              // a held call is waiting
}

func newGateStub(name string) *gateStub {
	return &gateStub{name: name, made: map[string]bool{}, heldCreate: map[string]chan struct{}{},
		heldGet: map[string]chan struct{}{}, arrived: make(chan string, 4)}
}

func (s *gateStub) Name() string                      { return s.name }
func (s *gateStub) Capabilities() paykit.Capabilities { return paykit.Capabilities{} }

// hold takes the gate of id in gates, if any, and waits on it.
func (s *gateStub) hold(ctx context.Context, gates map[string]chan struct{}, id, what string) error {
	s.mu.Lock()
	gate := gates[id]
	delete(gates, id)
	s.mu.Unlock()
	if gate == nil {
		return nil
	}
	s.arrived <- what
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *gateStub) CreatePayment(ctx context.Context, req paykit.PaymentRequest) (*paykit.Payment, error) {
	s.mu.Lock()
	_, isHeld := s.heldCreate[req.ID]
	if !isHeld && s.refuse > 0 {
		s.refuse--
		s.mu.Unlock()
		return nil, &paykit.Error{Provider: s.name, Op: "create payment", StatusCode: 429, Kind: paykit.ErrRateLimited, Unprocessed: true}
	}
	s.mu.Unlock()
	if err := s.hold(ctx, s.heldCreate, req.ID, "create"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.made[req.ID] = true
	return &paykit.Payment{Provider: s.name, ID: req.ID, Amount: req.Amount, Status: paykit.StatusPending}, nil
}

func (s *gateStub) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.made[id]
}

func (s *gateStub) GetPayment(ctx context.Context, id string) (*paykit.Payment, error) {
	if err := s.hold(ctx, s.heldGet, id, "get"); err != nil {
		return nil, err
	}
	if !s.has(id) {
		return nil, &paykit.Error{Provider: s.name, Op: "get payment", StatusCode: 404, Kind: paykit.ErrNotFound}
	}
	return &paykit.Payment{Provider: s.name, ID: id, Status: paykit.StatusPending}, nil
}

func (s *gateStub) Capture(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *gateStub) Refund(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *gateStub) Cancel(context.Context, string, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *gateStub) ParseNotification(*http.Request) (*paykit.Notification, error) {
	return nil, paykit.ErrUnsupported
}

// Two CreatePayment calls for one id at the same time (a customer's double submit, two
// replicas handling one checkout). The first call claims the id for a, is refused by a
// without processing (429), and asks a whether the payment exists; meanwhile the second
// call, a repeat, goes to the owner a and is on the wire there. a answers the first call's
// question before the second create lands: not found. The first call must not fail over
// then (found by the soak: it moved the id to b and created the payment there, and the
// repeat created it at a): the repeat's claim, counted by the ownership store, keeps the id
// at a, and the first call returns a's refusal.
func TestRouterConcurrentCreatesOfOneIDCreateItOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := newGateStub("a"), newGateStub("b")
	router, err := paykit.NewRouter([]paykit.Provider{a, b}, []paykit.Route{{Providers: []string{"a", "b"}}})
	require.NoError(t, err)
	const id = "order-1"
	req := paykit.PaymentRequest{ID: id, Amount: paykit.Money{Amount: 100, Currency: "EUR"}}

	type result struct {
		pay *paykit.Payment
		err error
	}
	create := func() chan result {
		ch := make(chan result, 1)
		go func() {
			pay, err := router.CreatePayment(ctx, req)
			ch <- result{pay, err}
		}()
		return ch
	}
	getGate, createGate := make(chan struct{}), make(chan struct{})
	a.refuse, a.heldGet[id] = 1, getGate
	first := create()
	require.Equal(t, "get", <-a.arrived, "the first call was refused and asks a for the payment")

	a.mu.Lock()
	a.heldCreate[id] = createGate
	a.mu.Unlock()
	second := create()
	require.Equal(t, "create", <-a.arrived, "the repeat is on the wire at a")

	close(getGate) // a: no such payment (yet)
	r1 := <-first
	close(createGate) // the repeat lands at a
	r2 := <-second

	require.ErrorIs(t, r1.err, paykit.ErrRateLimited, "no failover while a repeat was on its way to a")
	require.NoError(t, r2.err)
	assert.Equal(t, "a", r2.pay.Provider)
	assert.True(t, a.has(id))
	assert.False(t, b.has(id), "nothing at b")
	owner, err := router.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "a", owner.Provider)
}
