package reconcile_test

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/paykit/paykit"
)

// stub is a provider whose payments the test sets by hand. Its notifications are POSTs
// with the payment id in the "id" query parameter and, when "key" is given, a signed event
// identity (as Entrecard's results carry).
type stub struct {
	name string
	mu   sync.Mutex
	pays map[string]*paykit.Payment
	gets map[string]int
	fail map[string]error // the next GetPayment of the id answers this
	// created, when set, is called by CreatePayment before it creates.
	created func(id string)
}

func newStub(name string) *stub {
	return &stub{name: name, pays: map[string]*paykit.Payment{}, gets: map[string]int{}, fail: map[string]error{}}
}

func (s *stub) Name() string                      { return s.name }
func (s *stub) Capabilities() paykit.Capabilities { return paykit.Capabilities{Webhooks: true} }

// set puts the payment id in status st.
func (s *stub) set(id string, st paykit.Status, mod ...func(*paykit.Payment)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &paykit.Payment{Provider: s.name, ID: id, Amount: paykit.Money{Amount: 100, Currency: "EUR"}, Status: st}
	if st == paykit.StatusSucceeded {
		p.Captured = p.Amount
	}
	for _, m := range mod {
		m(p)
	}
	s.pays[id] = p
}

func (s *stub) reads(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[id]
}

func (s *stub) CreatePayment(_ context.Context, req paykit.PaymentRequest) (*paykit.Payment, error) {
	if s.created != nil {
		s.created(req.ID)
	}
	s.set(req.ID, paykit.StatusPending)
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *s.pays[req.ID]
	return &cp, nil
}

func (s *stub) GetPayment(_ context.Context, id string) (*paykit.Payment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets[id]++
	if err := s.fail[id]; err != nil {
		delete(s.fail, id)
		return nil, err
	}
	p, ok := s.pays[id]
	if !ok {
		return nil, &paykit.Error{Provider: s.name, Op: "get payment", PaymentID: id, StatusCode: 404, Kind: paykit.ErrNotFound}
	}
	cp := *p
	return &cp, nil
}

func (s *stub) Capture(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *stub) Refund(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (s *stub) Cancel(context.Context, string, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}

func (s *stub) ParseNotification(r *http.Request) (*paykit.Notification, error) {
	q := r.URL.Query()
	return &paykit.Notification{Provider: s.name, PaymentID: q.Get("id"), Event: "changed", DedupKey: q.Get("key")}, nil
}

// calls records the merchant's function's runs, by payment id and status.
type calls struct {
	mu   sync.Mutex
	runs []string // "id status event"
	fail int      // the next runs fail
}

func (c *calls) fn(_ context.Context, n *paykit.Notification) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		return errFn
	}
	c.runs = append(c.runs, n.PaymentID+" "+string(n.Payment.Status)+" "+n.Event)
	return nil
}

func (c *calls) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.runs...)
}

type fnErr struct{}

func (fnErr) Error() string { return "fn failed on purpose" }

var errFn error = fnErr{}

// clock is a Clock moved by hand; After's channels fire when Advance passes them.
type clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	waiting chan struct{} // receives when After is called
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC), waiting: make(chan struct{}, 100)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	select {
	case c.waiting <- struct{}{}:
	default:
	}
	return ch
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// countingLimiter counts the turns it gives.
type countingLimiter struct {
	mu sync.Mutex
	n  int
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	return ctx.Err()
}
