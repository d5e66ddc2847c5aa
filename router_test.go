package paykit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// routeStub is a provider for Router tests: it keeps the payments it created, and its next
// creates can be made to fail with given errors (after which it may still have created the
// payment, as a provider whose answer was lost has).
type routeStub struct {
	name string
	caps Capabilities

	mu        sync.Mutex
	payments  map[string]*Payment
	createErr []error // the next creates fail with these, in order
	keepOnErr bool    // a failed create still creates the payment (an ambiguous failure)
	calls     []string
	getErr    error
}

func newRouteStub(name string, caps Capabilities) *routeStub {
	return &routeStub{name: name, caps: caps, payments: map[string]*Payment{}}
}

func (s *routeStub) log(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

func (s *routeStub) callLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *routeStub) Name() string               { return s.name }
func (s *routeStub) Capabilities() Capabilities { return s.caps }

func (s *routeStub) CreatePayment(_ context.Context, req PaymentRequest) (*Payment, error) {
	s.log("create " + req.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.payments[req.ID]; ok {
		cp := *p
		return &cp, nil
	}
	var err error
	if len(s.createErr) > 0 {
		err, s.createErr = s.createErr[0], s.createErr[1:]
	}
	if err == nil || s.keepOnErr {
		s.payments[req.ID] = &Payment{Provider: s.name, ID: req.ID, Amount: req.Amount, Status: StatusPending}
	}
	if err != nil {
		return nil, err
	}
	cp := *s.payments[req.ID]
	return &cp, nil
}

func (s *routeStub) GetPayment(_ context.Context, id string) (*Payment, error) {
	s.log("get " + id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getErr != nil {
		return nil, s.getErr
	}
	p, ok := s.payments[id]
	if !ok {
		return nil, &Error{Provider: s.name, Op: "get payment", Kind: ErrNotFound, StatusCode: 404}
	}
	cp := *p
	return &cp, nil
}

func (s *routeStub) Capture(_ context.Context, id string, m Money, opts ...CallOption) (*Payment, error) {
	s.log("capture " + id + keyNote(opts))
	if !s.caps.Capture {
		return nil, &Error{Provider: s.name, Op: "capture", Kind: ErrUnsupported}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payments[id]
	p.Captured = m
	p.Status = StatusSucceeded
	cp := *p
	return &cp, nil
}

func (s *routeStub) Refund(_ context.Context, id string, _ Money, opts ...CallOption) (*Payment, error) {
	s.log("refund " + id + keyNote(opts))
	return nil, &Error{Provider: s.name, Op: "refund", Kind: ErrUnsupported}
}

func (s *routeStub) Cancel(_ context.Context, id string, opts ...CallOption) (*Payment, error) {
	s.log("cancel " + id + keyNote(opts))
	return nil, &Error{Provider: s.name, Op: "cancel", Kind: ErrUnsupported}
}

// keyNote is " key=K" when opts carry an operation key, so call logs show it arrived.
func keyNote(opts []CallOption) string {
	if k := NewCallOptions(opts...).IdempotencyKey; k != "" {
		return " key=" + k
	}
	return ""
}

func (s *routeStub) ParseNotification(r *http.Request) (*Notification, error) {
	id := r.URL.Query().Get("id")
	if id == "" {
		return nil, &Error{Provider: s.name, Kind: ErrInvalidRequest}
	}
	return &Notification{Provider: s.name, PaymentID: id, DedupKey: r.URL.Query().Get("key")}, nil
}

var (
	sek            = func(a int64) Money { return Money{Amount: a, Currency: "SEK"} }
	unprocessed429 = &Error{Provider: "x", Op: "create", StatusCode: 429, Kind: ErrRateLimited, Unprocessed: true}
)

func newTestRouter(t *testing.T, providers []Provider, routes []Route, opts ...RouterOption) *Router {
	t.Helper()
	r, err := NewRouter(providers, routes, opts...)
	require.NoError(t, err)
	return r
}

func TestRouterCandidates(t *testing.T) {
	t.Parallel()
	capture := Capabilities{Capture: true, Refund: true}
	a, b, c := newRouteStub("a", capture), newRouteStub("b", Capabilities{}), newRouteStub("c", capture)
	r := newTestRouter(t, []Provider{a, b, c}, []Route{
		{Name: "big SEK", Match: Match{Currencies: []string{"SEK"}, MinAmount: 100000}, Providers: []string{"c"}},
		{Name: "Swedes", Match: Match{Currencies: []string{"SEK"}, Countries: []string{"SE"}}, Providers: []string{"a", "b"}},
		{Name: "ships first", Match: Match{Needs: Capabilities{Capture: true}, Func: func(req PaymentRequest) bool { return req.Reference == "ship" }}, Providers: []string{"b", "c"}},
		{Name: "small", Match: Match{MaxAmount: 500}, Providers: []string{"b"}},
	})
	tests := []struct {
		name string
		req  PaymentRequest
		want []string
	}{
		{"country from the customer", PaymentRequest{Amount: sek(1000), Customer: &Customer{Country: "se"}}, []string{"a", "b"}},
		{"country from the locale", PaymentRequest{Amount: sek(1000), Locale: "sv-SE"}, []string{"a", "b"}},
		{"no country", PaymentRequest{Amount: sek(1000)}, nil},
		{"other country", PaymentRequest{Amount: sek(1000), Locale: "fi-FI"}, nil},
		{"big amount first, then the country's rule", PaymentRequest{Amount: sek(100000), Locale: "sv-SE"}, []string{"c", "a", "b"}},
		{"needs capture: b is skipped", PaymentRequest{Amount: Money{Amount: 1000, Currency: "EUR"}, Reference: "ship"}, []string{"c"}},
		{"bounds are inclusive", PaymentRequest{Amount: Money{Amount: 500, Currency: "EUR"}}, []string{"b"}},
		{"above the bound", PaymentRequest{Amount: Money{Amount: 501, Currency: "EUR"}}, nil},
		{"each provider once", PaymentRequest{Amount: sek(400), Locale: "sv-SE"}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, r.Candidates(tt.req), tt.name)
	}
}

func TestNewRouterRefuses(t *testing.T) {
	t.Parallel()
	a := newRouteStub("a", Capabilities{})
	tests := []struct {
		name      string
		providers []Provider
		routes    []Route
	}{
		{"no routes", []Provider{a}, nil},
		{"unknown provider", []Provider{a}, []Route{{Providers: []string{"zz"}}}},
		{"a route without providers", []Provider{a}, []Route{{Name: "empty"}}},
		{"a name twice", []Provider{a, newRouteStub("a", Capabilities{})}, []Route{{Providers: []string{"a"}}}},
		{"a nil provider", []Provider{a, nil}, []Route{{Providers: []string{"a"}}}},
	}
	for _, tt := range tests {
		_, err := NewRouter(tt.providers, tt.routes)
		assert.ErrorIs(t, err, ErrInvalidRequest, tt.name)
	}
}

// ownershipSpy records the order of ownership claims relative to the providers' creates.
type ownershipSpy struct {
	OwnershipStore
	events *[]string
	mu     *sync.Mutex
}

func (s ownershipSpy) Claim(ctx context.Context, id, p string) (Ownership, error) {
	s.mu.Lock()
	*s.events = append(*s.events, "claim "+p)
	s.mu.Unlock()
	return s.OwnershipStore.Claim(ctx, id, p)
}

func TestRouterRecordsTheOwnerBeforeTheCreate(t *testing.T) {
	t.Parallel()
	var events []string
	var mu sync.Mutex
	spy := ownershipSpy{OwnershipStore: NewMemoryOwnershipStore(), events: &events, mu: &mu}
	a := &orderedStub{routeStub: newRouteStub("a", Capabilities{Capture: true}), events: &events, mu: &mu}
	r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}}, WithOwnershipStore(spy))
	ctx := context.Background()
	p, err := r.CreatePayment(ctx, PaymentRequest{Amount: sek(100)})
	require.NoError(t, err)
	assert.Equal(t, []string{"claim a", "create"}, events)

	got, err := r.GetPayment(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, "a", got.Provider)
	got, err = r.Capture(ctx, p.ID, sek(100))
	require.NoError(t, err)
	assert.Equal(t, StatusSucceeded, got.Status)
	_, err = r.Refund(ctx, p.ID, Money{})
	assert.ErrorIs(t, err, ErrUnsupported)
	_, err = r.Cancel(ctx, p.ID)
	assert.ErrorIs(t, err, ErrUnsupported)
	_, err = r.GetPayment(ctx, "nobody-owns-this")
	assert.ErrorIs(t, err, ErrNotFound)
}

type orderedStub struct {
	*routeStub
	events *[]string
	mu     *sync.Mutex
}

func (s *orderedStub) CreatePayment(ctx context.Context, req PaymentRequest) (*Payment, error) {
	s.mu.Lock()
	*s.events = append(*s.events, "create")
	s.mu.Unlock()
	return s.routeStub.CreatePayment(ctx, req)
}

func TestRouterFailover(t *testing.T) {
	t.Parallel()
	ambiguous := &Error{Provider: "a", Op: "create", Kind: ErrUnavailable, Err: errors.New("connection reset")}
	served5xx := &Error{Provider: "a", Op: "create", StatusCode: 503, Kind: ErrUnavailable}
	notSent := &Error{Provider: "a", Op: "create", Kind: ErrUnavailable, Err: errors.New("dial refused"), Unprocessed: true}
	refused := &Error{Provider: "a", Op: "create", StatusCode: 401, Kind: ErrUnauthorized, Unprocessed: true}
	conflict := &Error{Provider: "a", Op: "create", StatusCode: 409, Kind: ErrConflict}
	canceled := &Error{Provider: "a", Op: "create", Kind: context.Canceled, Unprocessed: true}
	tests := []struct {
		name      string
		errs      []error
		keepOnErr bool
		wantBy    string // the provider that holds the payment; "" when the create fails
		wantKind  error
	}{
		{"429: nothing processed", []error{unprocessed429}, false, "b", nil},
		{"dial refused", []error{notSent}, false, "b", nil},
		{"401", []error{refused}, false, "b", nil},
		{"dropped after writing: may exist", []error{ambiguous}, false, "", ErrUnavailable},
		{"503: may exist", []error{served5xx}, false, "", ErrUnavailable},
		{"409: exists", []error{conflict}, false, "", ErrConflict},
		{"the caller gave up", []error{canceled}, false, "", context.Canceled},
		// The error says unprocessed, but a payment exists with the id (an earlier attempt
		// of the same call made it): never fail over.
		{"unprocessed but the payment exists", []error{unprocessed429}, true, "", ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := newRouteStub("a", Capabilities{}), newRouteStub("b", Capabilities{})
			a.createErr, a.keepOnErr = tt.errs, tt.keepOnErr
			r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
			ctx := context.Background()
			const id = "pay-1"
			p, err := r.CreatePayment(ctx, PaymentRequest{ID: id, Amount: sek(100)})
			if tt.wantBy == "" {
				require.ErrorIs(t, err, tt.wantKind)
				var pe *Error
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, id, pe.PaymentID)
				assert.Empty(t, b.callLog(), "nothing sent to b")
				owner, ok, _ := r.owners.Owner(ctx, id)
				assert.True(t, ok)
				assert.Equal(t, "a", owner, "a keeps the id: a repeat goes there")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantBy, p.Provider)
			assert.Equal(t, []string{"create " + id, "get " + id}, a.callLog(), "a was asked whether it has the payment")
			got, err := r.GetPayment(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, "b", got.Provider, "ownership followed the payment")
			// A repeat goes to b, never back to a.
			again, err := r.CreatePayment(ctx, PaymentRequest{ID: id, Amount: sek(100)})
			require.NoError(t, err)
			assert.Equal(t, "b", again.Provider)
			assert.Len(t, a.callLog(), 2)
		})
	}
}

// After an ambiguous failure the merchant repeats the create with the id from the error: it
// goes to the same provider, which returns the payment it made; never a second payment.
func TestRouterRepeatAfterAmbiguousFailure(t *testing.T) {
	t.Parallel()
	a, b := newRouteStub("a", Capabilities{}), newRouteStub("b", Capabilities{})
	a.createErr = []error{&Error{Provider: "a", Kind: ErrUnavailable}}
	a.keepOnErr = true
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
	ctx := context.Background()
	_, err := r.CreatePayment(ctx, PaymentRequest{Amount: sek(100)})
	var pe *Error
	require.ErrorAs(t, err, &pe)
	require.NotEmpty(t, pe.PaymentID, "the generated id is in the error")
	p, err := r.CreatePayment(ctx, PaymentRequest{ID: pe.PaymentID, Amount: sek(100)})
	require.NoError(t, err)
	assert.Equal(t, "a", p.Provider)
	assert.Len(t, a.payments, 1)
	assert.Empty(t, b.payments)
}

// Every candidate fails without processing: the last error comes back, and the last
// provider tried owns the id.
func TestRouterAllCandidatesRefuse(t *testing.T) {
	t.Parallel()
	a, b := newRouteStub("a", Capabilities{}), newRouteStub("b", Capabilities{})
	a.createErr = []error{unprocessed429}
	b.createErr = []error{&Error{Provider: "b", StatusCode: 429, Kind: ErrRateLimited, Unprocessed: true}}
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
	_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "p", Amount: sek(1)})
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "b", pe.Provider)
	assert.Equal(t, "p", pe.PaymentID)
	owner, _, _ := r.owners.Owner(context.Background(), "p")
	assert.Equal(t, "b", owner)
}

func TestRouterRefusesBeforeChoosing(t *testing.T) {
	t.Parallel()
	a := newRouteStub("a", Capabilities{})
	r := newTestRouter(t, []Provider{a}, []Route{{Match: Match{Currencies: []string{"SEK"}}, Providers: []string{"a"}}})
	ctx := context.Background()
	_, err := r.CreatePayment(ctx, PaymentRequest{Amount: Money{Amount: 1, Currency: "EUR"}})
	require.ErrorIs(t, err, ErrUnsupported, "no route takes EUR")
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.NotEmpty(t, pe.PaymentID)
	_, err = r.CreatePayment(ctx, PaymentRequest{ID: "x", Amount: sek(-1)})
	require.ErrorIs(t, err, ErrInvalidRequest)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "x", pe.PaymentID)
	assert.Empty(t, a.callLog())
}

func TestRouterGeneratesIDsEachProviderTakes(t *testing.T) {
	t.Parallel()
	// Each stub makes ids in its provider's form through paykit.IDMaker, as the real clients do.
	ent := newIDStub("entrecard", regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`))
	other := newIDStub("ecredits", uuidForm)
	r := newTestRouter(t, []Provider{ent, other}, []Route{
		{Match: Match{Currencies: []string{"EC"}}, Providers: []string{"entrecard"}},
		{Providers: []string{"ecredits"}},
	})
	p, err := r.CreatePayment(context.Background(), PaymentRequest{Amount: Money{Amount: 5, Currency: "EC"}})
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{32}$`, p.ID)
	p, err = r.CreatePayment(context.Background(), PaymentRequest{Amount: Money{Amount: 5, Currency: "EUR"}})
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, p.ID)
}

// One handler mounts every provider under the prefix, with one store and one fn; the same
// key from two providers is two events.
func TestRouterWebhookHandler(t *testing.T) {
	t.Parallel()
	a, b := newRouteStub("a", Capabilities{Webhooks: true}), newRouteStub("b", Capabilities{Webhooks: true})
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
	ctx := context.Background()
	pa, err := r.CreatePayment(ctx, PaymentRequest{ID: "pa", Amount: sek(1)})
	require.NoError(t, err)
	b.payments["pb"] = &Payment{Provider: "b", ID: "pb", Status: StatusPending}

	var mu sync.Mutex
	var seen []string
	h := r.WebhookHandler("/webhooks/", func(_ context.Context, n *Notification) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, n.Provider+":"+n.Payment.ID)
		return nil
	})
	post := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("")))
		return rec.Code
	}
	assert.Equal(t, 200, post("/webhooks/a?id="+pa.ID+"&key=k1"))
	assert.Equal(t, 200, post("/webhooks/a?id="+pa.ID+"&key=k1"), "redelivery")
	assert.Equal(t, 200, post("/webhooks/b?id=pb&key=k1"), "the same key at b is another event")
	assert.Equal(t, 404, post("/webhooks/zz?id=pb&key=k1"))
	assert.Equal(t, 400, post("/webhooks/a?key=k1"))
	assert.Equal(t, []string{"a:pa", "b:pb"}, seen)

	// The Router as a Provider parses by the last path segment and keeps keys apart.
	n, err := r.ParseNotification(httptest.NewRequest(http.MethodPost, "/hooks/b?id=pb&key=k1", nil))
	require.NoError(t, err)
	assert.Equal(t, "b|k1", n.DedupKey)
	_, err = r.ParseNotification(httptest.NewRequest(http.MethodPost, "/hooks/nope?id=pb", nil))
	assert.ErrorIs(t, err, ErrInvalidRequest)
}

func TestMemoryOwnershipStore(t *testing.T) {
	t.Parallel()
	s := NewMemoryOwnershipStore()
	ctx := context.Background()
	own, err := s.Claim(ctx, "p", "a")
	require.NoError(t, err)
	assert.Equal(t, Ownership{Provider: "a", Claimed: true, Seq: 1}, own)
	own, err = s.Claim(ctx, "p", "b")
	require.NoError(t, err)
	assert.Equal(t, Ownership{Provider: "a", Claimed: false, Seq: 2}, own, "the first claim wins; every claim counts")
	require.ErrorIs(t, s.Move(ctx, "p", "a", "b", 1), ErrConflict, "claimed again since claim 1")
	require.ErrorIs(t, s.Move(ctx, "p", "b", "c", 2), ErrConflict, "only the owner can be moved from")
	require.NoError(t, s.Move(ctx, "p", "a", "b", 2))
	owner, ok, err := s.Owner(ctx, "p")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "b", owner)
	_, ok, _ = s.Owner(ctx, "q")
	assert.False(t, ok)
	require.ErrorIs(t, s.Move(ctx, "q", "a", "b", 1), ErrConflict)
	_, err = s.Claim(ctx, "", "a")
	assert.Error(t, err)

	// Concurrent claims: exactly one records the owner, and the numbers are 1..50.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var claimed []string
	seqs := map[int64]bool{}
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("p", i)
			own, err := s.Claim(ctx, "race", name)
			assert.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			seqs[own.Seq] = true
			if own.Claimed {
				claimed = append(claimed, name)
			}
		}()
	}
	wg.Wait()
	require.Len(t, claimed, 1)
	assert.Len(t, seqs, 50)
	owner, _, _ = s.Owner(ctx, "race")
	assert.Equal(t, claimed[0], owner)
}

// After a failover the provider that took the payment is given its own notify URL.
func TestRouterNotifyURLNamesTheProviderThatTookThePayment(t *testing.T) {
	t.Parallel()
	a, b := &notifySpy{routeStub: newRouteStub("a", Capabilities{})}, &notifySpy{routeStub: newRouteStub("b", Capabilities{})}
	a.createErr = []error{unprocessed429}
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
	_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "p", Amount: sek(100),
		NotifyURL: "https://shop.example/webhooks/{provider}?shop=7"})
	require.NoError(t, err)
	assert.Equal(t, []string{"https://shop.example/webhooks/a?shop=7"}, a.urls)
	assert.Equal(t, []string{"https://shop.example/webhooks/b?shop=7"}, b.urls)
	// A repeat goes to the owner with the owner's URL.
	_, err = r.CreatePayment(context.Background(), PaymentRequest{ID: "p", Amount: sek(100),
		NotifyURL: "https://shop.example/webhooks/{provider}?shop=7"})
	require.NoError(t, err)
	assert.Equal(t, "https://shop.example/webhooks/b?shop=7", b.urls[1])
}

type notifySpy struct {
	*routeStub
	urls []string
}

func (s *notifySpy) CreatePayment(ctx context.Context, req PaymentRequest) (*Payment, error) {
	s.urls = append(s.urls, req.NotifyURL)
	return s.routeStub.CreatePayment(ctx, req)
}

// gatedStub holds its GetPayment until released, so that a test can send a repeat of the
// create while the first create's failover check is on its way.
type gatedStub struct {
	*routeStub
	getting chan struct{} // a GetPayment arrived
	release chan struct{} // GetPayment answers once closed
}

func (s *gatedStub) GetPayment(ctx context.Context, id string) (*Payment, error) {
	s.getting <- struct{}{}
	<-s.release
	return s.routeStub.GetPayment(ctx, id)
}

// Two creates of one id at once (a double submit, two replicas): the first is refused by a
// without processing, and while it asks a whether the payment exists, the repeat is sent to
// a. The first must not fail over then: the payment would exist at a and at b.
func TestRouterNoFailoverWhileARepeatIsOnItsWay(t *testing.T) {
	t.Parallel()
	a := &gatedStub{routeStub: newRouteStub("a", Capabilities{}), getting: make(chan struct{}, 1), release: make(chan struct{})}
	b := newRouteStub("b", Capabilities{})
	a.createErr = []error{unprocessed429}
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
	ctx := context.Background()
	req := PaymentRequest{ID: "order-1", Amount: sek(100)}

	first := make(chan error, 1)
	go func() {
		_, err := r.CreatePayment(ctx, req)
		first <- err
	}()
	<-a.getting // the first create was refused; its check is on its way
	second, err := r.CreatePayment(ctx, req)
	require.NoError(t, err, "the repeat went to the owner, a, and created the payment there")
	assert.Equal(t, "a", second.Provider)
	close(a.release)
	require.ErrorIs(t, <-first, ErrRateLimited, "no failover: a repeat was sent to a meanwhile")
	assert.Empty(t, b.callLog(), "nothing at b")
	owner, _, _ := r.owners.Owner(ctx, "order-1")
	assert.Equal(t, "a", owner)
}

func TestRouterPassesCallOptionsToTheOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newRouteStub("a", Capabilities{Capture: true})
	b := newRouteStub("b", Capabilities{Capture: true})
	r, err := NewRouter([]Provider{a, b}, []Route{{Name: "b first", Providers: []string{"b", "a"}}})
	require.NoError(t, err)
	_, err = r.CreatePayment(ctx, PaymentRequest{ID: "p1", Amount: Money{1000, "SEK"}})
	require.NoError(t, err)
	_, err = r.Capture(ctx, "p1", Money{}, IdempotencyKey("ship-1"))
	require.NoError(t, err)
	_, _ = r.Refund(ctx, "p1", Money{}, IdempotencyKey("return-1"))
	_, _ = r.Cancel(ctx, "p1", nil, IdempotencyKey("cancel-1"))
	_, err = r.Capture(ctx, "p1", Money{})
	require.NoError(t, err)
	assert.Equal(t, []string{"create p1", "capture p1 key=ship-1", "refund p1 key=return-1", "cancel p1 key=cancel-1", "capture p1"}, b.callLog())
	assert.Empty(t, a.callLog())
}

func TestCallOptions(t *testing.T) {
	t.Parallel()
	assert.Equal(t, CallOptions{}, NewCallOptions())
	assert.Equal(t, CallOptions{IdempotencyKey: "b"}, NewCallOptions(IdempotencyKey("a"), nil, IdempotencyKey("b")))
	for _, ok := range []string{"", "k", "shipment-1/2 ü", strings.Repeat("k", MaxIdempotencyKey)} {
		assert.NoError(t, CallOptions{IdempotencyKey: ok}.Validate(), "%q", ok)
	}
	for _, bad := range []string{"a\nb", "a\x00", strings.Repeat("k", MaxIdempotencyKey+1), string([]byte{0xff}), "a\u0085"} {
		err := CallOptions{IdempotencyKey: bad}.Validate()
		require.ErrorIs(t, err, ErrInvalidRequest, "%q", bad)
		assert.NotContains(t, err.Error(), "\n")
	}
}

func TestCheckAmount(t *testing.T) {
	t.Parallel()
	assert.NoError(t, CheckAmount(Money{}))
	assert.NoError(t, CheckAmount(Money{1, "SEK"}))
	for _, bad := range []Money{{0, "SEK"}, {-1, "SEK"}, {5, ""}} {
		err := CheckAmount(bad)
		require.ErrorIs(t, err, ErrInvalidRequest, "%v", bad)
		var pe *Error
		require.ErrorAs(t, err, &pe)
		assert.True(t, pe.Unprocessed)
	}
	assert.Contains(t, CheckAmount(Money{0, "SEK"}).Error(), "Money{}")
}

// lowerStub answers ids in lower case, as eCredits does (its ids compare ignoring case).
type lowerStub struct{ *routeStub }

func (s lowerStub) CreatePayment(ctx context.Context, req PaymentRequest) (*Payment, error) {
	req.ID = strings.ToLower(req.ID)
	return s.routeStub.CreatePayment(ctx, req)
}

func (s lowerStub) GetPayment(ctx context.Context, id string) (*Payment, error) {
	return s.routeStub.GetPayment(ctx, strings.ToLower(id))
}

// A payment created with a mixed-case id is found through the Router by the canonical id the
// provider answered, as well as by the id it was created with.
func TestRouterFindsThePaymentByItsCanonicalID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := lowerStub{newRouteStub("ecredits", Capabilities{})}
	r := newTestRouter(t, []Provider{p}, []Route{{Providers: []string{"ecredits"}}})
	const mixed = "70DF7B42-2926-4FA7-8FED-C5805F823167"
	pay, err := r.CreatePayment(ctx, PaymentRequest{ID: mixed, Amount: Money{Amount: 100, Currency: "EUR"}})
	require.NoError(t, err)
	require.Equal(t, strings.ToLower(mixed), pay.ID)
	for _, id := range []string{pay.ID, mixed} {
		got, err := r.GetPayment(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, pay.ID, got.ID)
	}
	again, err := r.CreatePayment(ctx, PaymentRequest{ID: mixed, Amount: Money{Amount: 100, Currency: "EUR"}})
	require.NoError(t, err)
	assert.Equal(t, pay.ID, again.ID)
}
