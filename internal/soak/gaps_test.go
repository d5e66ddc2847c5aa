package soak_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
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

// flagGaps runs the tests of the Router's known gaps, which fail until the Router is fixed.
// They are skipped by default so that make test stays green for everyone in the meantime.
var flagGaps = flag.Bool("soak.gaps", false, "run the tests of known Router gaps (they fail until fixed)")

func needGaps(t *testing.T) {
	t.Helper()
	if !*flagGaps {
		t.Skip("a known Router gap (reported to the Router's author); run with -soak.gaps to see it fail")
	}
}

// GAP: the Router passes PaymentRequest.NotifyURL unchanged to whichever provider takes the
// payment, but its WebhookHandler serves each provider at its own path. A merchant gives the
// URL of the endpoint the Router mounts for the provider the rules pick (Candidates' first);
// when the create fails over, the provider that took it sends its notifications to the
// first provider's endpoint, which refuses them (401): none is ever delivered and fn never
// runs. The soak works around it with a wrapper per provider (notifyAt).
func TestRouterFailoverSendsNotificationsToTheFirstProvidersEndpoint(t *testing.T) {
	needGaps(t)
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
	first := router.Candidates(req)[0]
	req.NotifyURL = shop.URL + "/webhooks/" + first // the Router's endpoint for the provider it picks
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

func (s *gateStub) Capture(context.Context, string, paykit.Money) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *gateStub) Refund(context.Context, string, paykit.Money) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *gateStub) Cancel(context.Context, string) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *gateStub) ParseNotification(*http.Request) (*paykit.Notification, error) {
	return nil, paykit.ErrUnsupported
}

// GAP: two CreatePayment calls for one id at the same time (a customer's double submit, two
// replicas handling one checkout) can create the payment at two providers. The first call
// claims the id for a, is refused by a without processing (429), and asks a whether the
// payment exists; meanwhile the second call, a repeat (the id is claimed), goes to the owner
// a and is on the wire there. a answers the first call's question before the second create
// lands: not found. The first call moves the id to b and creates the payment there; then the
// second create lands at a. Both calls succeed, at different providers: the customer can pay
// twice, and the ownership store names only b. (router.go CreatePayment: the check in
// createdNothing and the Move do not see a repeat in flight at the owner.)
func TestRouterConcurrentCreatesOfOneIDCreateItOnce(t *testing.T) {
	needGaps(t)
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

	require.NoError(t, r1.err)
	require.NoError(t, r2.err)
	assert.Equal(t, r1.pay.Provider, r2.pay.Provider, "both calls name the same provider")
	assert.False(t, a.has(id) && b.has(id), "the payment exists at a (%t) and at b (%t)", a.has(id), b.has(id))
}

// heldTransport passes requests to the fake, except those hold picks: each of them is taken
// as written (the client's trace hears WroteHeaders), its caller waits until its own
// context ends, and the request reaches the fake only when release is closed, as a request
// stuck in a proxy's or the provider's queue that is processed after its caller gave up.
type heldTransport struct {
	base    http.RoundTripper
	mu      sync.Mutex
	hold    func(*http.Request) bool
	release chan struct{}
	landed  chan error
}

func newHeldTransport(hold func(*http.Request) bool) *heldTransport {
	return &heldTransport{base: http.DefaultTransport, hold: hold, release: make(chan struct{}), landed: make(chan error, 4)}
}

func (h *heldTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	held := h.hold != nil && h.hold(req)
	if held {
		h.hold = nil // only the first one
	}
	h.mu.Unlock()
	if !held {
		return h.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteHeaders != nil {
		tr.WroteHeaders()
	}
	late := req.Clone(context.Background())
	late.Body = io.NopCloser(bytes.NewReader(body))
	go func() {
		<-h.release
		resp, err := h.base.RoundTrip(late)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		h.landed <- err
	}()
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// ecsterWithHeldDebit starts a fake Ecster with an authorized order and a client whose first
// DEBIT is held (heldTransport).
func ecsterWithHeldDebit(t *testing.T, ctx context.Context, opts ...paykit.Option) (*ecstertest.Server, *ecster.Client, *heldTransport, string) {
	t.Helper()
	fake := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(fake.Close)
	ht := newHeldTransport(func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transactions")
	})
	client, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL},
		append([]paykit.Option{paykit.WithHTTPClient(&http.Client{Transport: ht})}, opts...)...)
	require.NoError(t, err)
	sek := paykit.Money{Amount: 100000, Currency: "SEK"}
	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{Amount: sek,
		Items: []paykit.Item{{Name: "Tent", Quantity: 1, UnitAmount: sek, VATRate: 2500}}})
	require.NoError(t, err)
	require.NoError(t, fake.Pay(ctx, pay.ID))
	return fake, client, ht, pay.ID
}

func debits(fake *ecstertest.Server, id string) int {
	n := 0
	for _, tx := range fake.Transactions(id) {
		if tx.Type == ecster.TransactionDebit {
			n++
		}
	}
	return n
}

// GAP (ecster, DESIGN rule 1): after a send that timed out the client reads the order and,
// not finding the reference, sends the DEBIT again. A send that timed out may still be
// processed (it was written; the provider, or a proxy before it, had not answered yet): it
// lands after the read, and the order is debited twice, with one reference. Nothing the
// merchant did: one Capture call. (ecster/transactions.go transact: the resend after
// mayHaveReached and a read that does not show the reference.)
func TestEcsterCaptureAfterATimeoutDebitsOnce(t *testing.T) {
	needGaps(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fake, client, ht, id := ecsterWithHeldDebit(t, ctx, paykit.WithTimeout(200*time.Millisecond),
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond}))

	pay, err := client.Capture(ctx, id, paykit.Money{Amount: 40000, Currency: "SEK"})
	require.NoError(t, err, "the first send timed out, was not on the order, and was sent again")
	assert.Equal(t, int64(40000), pay.Captured.Amount)
	close(ht.release) // the first send, stuck on its way, is processed now
	require.NoError(t, <-ht.landed)
	assert.Equal(t, 1, debits(fake, id), "one Capture of 400 SEK; the order records %d DEBITs", debits(fake, id))
}

// GAP (ecster doc, "Retries"): when the caller's context ends while the DEBIT is on its way
// the doc says "call GetPayment before deciding whether to capture again". The GetPayment
// can come before the DEBIT lands; the merchant, seeing nothing captured, captures again,
// and the order is debited twice. The soak's merchant waits a grace period before that
// read (see unknownOutcomeGrace); without it the soak finds such double captures.
func TestEcsterDocumentedRecoveryAfterTheCallersDeadlineCapturesOnce(t *testing.T) {
	needGaps(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fake, client, ht, id := ecsterWithHeldDebit(t, ctx)
	amount := paykit.Money{Amount: 40000, Currency: "SEK"}

	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := client.Capture(short, id, amount)
	cancelShort()
	require.ErrorIs(t, err, context.DeadlineExceeded, "the checkout page gave up; the outcome is unknown")
	got, err := client.GetPayment(ctx, id)
	require.NoError(t, err)
	if got.Captured.Amount == 0 { // as the doc says: not captured, so capture again
		_, err = client.Capture(ctx, id, amount)
		require.NoError(t, err)
	}
	close(ht.release)
	require.NoError(t, <-ht.landed)
	assert.Equal(t, 1, debits(fake, id), "one capture of 400 SEK asked; the order records %d DEBITs", debits(fake, id))
}
