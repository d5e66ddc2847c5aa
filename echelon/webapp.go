package echelon

import (
	"container/list"
	"sync"
	"time"

	"github.com/paykit/paykit"
)

// webAppMemorySize bounds how many web-app payments a Client remembers (webAppMemory). A
// web-app CreatePayment costs two requests of EchelonPay's 10 per second (the look-up and
// the token), so one merchant creates at most 5 a second, 3,000 in a token's 10 minutes
// (DefaultTokenValidity): 4,096 keeps every one of them until its token ends, at about 1.1 KB
// each (the JWT, the id and the Payment; measured by TestWebAppMemoryCost), 4.5 MB at most.
const webAppMemorySize = 4096

// webAppMemory remembers the web-app payments this client created and EchelonPay does not
// know yet: CreatePayment minted a PAYIN_CREATE token, and the web app has not created the
// payin. GetPayment answers them pending, with the token's Action, instead of ErrNotFound.
// An entry goes when its token expires (no payin can be created with it after that), when
// GetPayment or CreatePayment finds the payin, or when the memory is full, oldest first. It
// is process-local: another replica has none of it. The zero value is not ready: use
// newWebAppMemory.
type webAppMemory struct {
	mu    sync.Mutex
	max   int
	now   func() time.Time
	byID  map[string]*list.Element // of *paykit.Payment, by Payment.ID
	order list.List                // oldest first; tokens of one validity expire in this order
}

func newWebAppMemory(max int) *webAppMemory {
	return &webAppMemory{max: max, now: time.Now, byID: make(map[string]*list.Element)}
}

// put remembers p, the pending payment CreatePayment returned, in place of an earlier one
// with its id.
func (m *webAppMemory) put(p *paykit.Payment) {
	if m == nil {
		return
	}
	p = clonePayment(p)
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byID[p.ID]; ok {
		e.Value = p
		m.order.MoveToBack(e)
	} else {
		m.byID[p.ID] = m.order.PushBack(p)
	}
	now := m.now()
	for m.order.Len() > 0 {
		front := m.order.Front()
		if m.order.Len() <= m.max && !expired(front.Value.(*paykit.Payment), now) {
			break
		}
		m.removeLocked(front)
	}
}

// get returns a copy of the payment remembered with id, unless its token has expired.
func (m *webAppMemory) get(id string) (*paykit.Payment, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byID[id]
	if !ok {
		return nil, false
	}
	p := e.Value.(*paykit.Payment)
	if expired(p, m.now()) {
		m.removeLocked(e)
		return nil, false
	}
	return clonePayment(p), true
}

// forget drops id: EchelonPay knows the payin now, and answers for it.
func (m *webAppMemory) forget(id string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byID[id]; ok {
		m.removeLocked(e)
	}
}

func (m *webAppMemory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}

func (m *webAppMemory) removeLocked(e *list.Element) {
	delete(m.byID, e.Value.(*paykit.Payment).ID)
	m.order.Remove(e)
}

// expired reports whether the web-app token of p has ended by now.
func expired(p *paykit.Payment, now time.Time) bool { return !now.Before(p.ExpiresAt) }

// clonePayment copies p and its Action, so that neither the caller nor the memory changes
// the other's.
func clonePayment(p *paykit.Payment) *paykit.Payment {
	c := *p
	if p.Action != nil {
		a := *p.Action
		if a.Transfer != nil {
			t := *a.Transfer
			a.Transfer = &t
		}
		c.Action = &a
	}
	return &c
}
