package fakeserver

import (
	"errors"
	"math/rand/v2"
)

// ErrLost: a notification the server was told to lose (LoseNotifications,
// LosePaymentNotifications) was never sent.
var ErrLost = errors.New("paykit fake: notification lost on purpose")

// losing is what the loss controls set; it lives under Server.mu.
type losing struct {
	share    float64
	rng      *rand.Rand
	payments map[string]bool // payment key → lose all its notifications
}

// LoseNotifications makes the server lose share (0 to 1) of the notifications queued from
// now on, picked at random from seed: a lost notification is never sent, not even once, as
// one a provider gave up on, a deploy swallowed or a firewall dropped. It is recorded in
// Deliveries with Lost set and no attempts, WaitDelivered reports it with ErrLost, and
// Redeliver skips it. 0 stops losing (LosePaymentNotifications' payments stay lost).
func (c *Controls) LoseNotifications(share float64, seed uint64) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose.share = min(max(share, 0), 1)
	s.lose.rng = rand.New(rand.NewPCG(seed, 0x105e))
}

// LosePaymentNotifications makes the server lose every notification of the payment with
// paymentID (the merchant's id) queued from now on, as LoseNotifications does.
func (c *Controls) LosePaymentNotifications(paymentID string) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lose.payments == nil {
		s.lose.payments = make(map[string]bool)
	}
	s.lose.payments[s.cfg.PaymentKey(paymentID)] = true
}

// loseLocked decides whether the notification of paymentID now queued is lost.
func (s *Server) loseLocked(paymentID string) bool {
	if s.lose.payments[s.cfg.PaymentKey(paymentID)] {
		return true
	}
	return s.lose.share > 0 && s.lose.rng != nil && s.lose.rng.Float64() < s.lose.share
}
