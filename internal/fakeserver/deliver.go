package fakeserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Defaults of Retry.
const (
	DefaultRetryMinWait = 10 * time.Millisecond
	DefaultRetryMaxWait = time.Second
	DefaultMaxAttempts  = 20
)

// Errors of WaitDelivered, Redeliver and the fakes' control methods. Each fake re-exports
// them under the same names, so errors.Is works with either.
var (
	// ErrClosed: the server is closed.
	ErrClosed = errors.New("paykit fake: server closed")
	// ErrGaveUp: a notification's attempts ran out without a 200 answer.
	ErrGaveUp = errors.New("paykit fake: notification delivery gave up")
	// ErrNoNotifyURL: the payment has no notify URL (it named none and none is configured),
	// so no notification will come.
	ErrNoNotifyURL = errors.New("paykit fake: no notify URL")
	// ErrUnknownPayment: the fake knows no payment with that id (or, for Redeliver, no
	// notification of it).
	ErrUnknownPayment = errors.New("paykit fake: unknown payment")
)

// Retry is how a notification that was not answered 200 is sent again: the first retry
// waits MinWait, each later one twice as long as the one before, at most MaxWait (equal
// values make a fixed interval), for at most MaxAttempts attempts in all. Zero fields take
// the defaults; a MaxWait below MinWait is taken as MinWait.
type Retry struct {
	MinWait     time.Duration // DefaultRetryMinWait
	MaxWait     time.Duration // DefaultRetryMaxWait
	MaxAttempts int           // DefaultMaxAttempts
}

func (r Retry) withDefaults() Retry {
	if r.MinWait <= 0 {
		r.MinWait = DefaultRetryMinWait
	}
	if r.MaxWait <= 0 {
		r.MaxWait = DefaultRetryMaxWait
	}
	r.MaxWait = max(r.MaxWait, r.MinWait)
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
	return r
}

// Notification is what a fake hands to Notify: one message about one payment.
type Notification struct {
	PaymentID string      // the merchant's payment id it is about
	Event     string      // the provider's event or status word, kept in Delivery.Event
	Method    string      // "": POST
	URL       string      // "": the payment's notify URL (SetPaymentNotifyURL), else the configured one
	Header    http.Header // sent with every attempt, e.g. Content-Type
	Body      []byte      // sent with every attempt; nil for none
}

// Delivery is one notification the fake sent or tried to send, with every attempt so far.
// Every fake re-exports it as a type alias, so it is one type in all of them.
type Delivery struct {
	Seq       int    // 1 for the server's first notification, then 2, …
	PaymentID string // the merchant's payment id, as the fake had it
	Event     string // the provider's event or status word (eCredits "Settled", Entrecard "complete")
	Method    string
	URL       string // where it goes; "" when no URL was known (not sent)
	Header    http.Header
	Body      []byte // the same for every attempt
	// Replay: made by Redeliver; one attempt, not retried, and not waited for by
	// WaitDelivered.
	Replay bool
	// Lost: never sent, on purpose (LoseNotifications, LosePaymentNotifications).
	Lost     bool
	Attempts []Attempt
	// Delivered: an attempt got 200. Done: no more attempts will be made (delivered, out
	// of attempts, no URL, or the server closed).
	Delivered, Done bool

	end error // why a Done delivery is not Delivered
}

// Attempt is one sending of a notification.
type Attempt struct {
	Time       time.Time // wall-clock time the attempt started
	StatusCode int       // the receiver's status; 0 when there was no answer
	Err        error     // the transport error when there was no answer
}

// SetNotifyURL changes the notify URL of notifications whose payment has none (the
// configured one, Config.NotifyURL). It applies to notifications queued after the call.
func (s *Server) SetNotifyURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyURL = u
	s.changedLocked()
}

// SetPaymentNotifyURL records the notify URL a payment was created with (empty: none, the
// configured one applies). Notify uses it when a notification names no URL, and
// WaitDelivered knows from it that a notification can come.
func (s *Server) SetPaymentNotifyURL(paymentID, u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u == "" {
		delete(s.paymentURLs, s.cfg.PaymentKey(paymentID))
	} else {
		s.paymentURLs[s.cfg.PaymentKey(paymentID)] = u
	}
	s.changedLocked()
}

// urlLocked is where a notification of paymentID without a URL of its own goes.
func (s *Server) urlLocked(paymentID string) string {
	if u := s.paymentURLs[s.cfg.PaymentKey(paymentID)]; u != "" {
		return u
	}
	return s.notifyURL
}

// Notify queues n and delivers it in the background until the receiver answers exactly
// 200, the attempts run out (Config.Retry) or the server closes. A notification without a
// URL of its own goes to its payment's notify URL, else to the configured one; with none of
// them it is recorded as not sent. After Close it is recorded as not sent either. It is
// safe to call with the fake's own locks held: it calls nothing of the fake's.
func (s *Server) Notify(n Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &Delivery{
		Seq:       len(s.deliveries) + 1,
		PaymentID: n.PaymentID,
		Event:     n.Event,
		Method:    n.Method,
		URL:       n.URL,
		Header:    n.Header.Clone(),
		Body:      bytes.Clone(n.Body),
	}
	if d.Method == "" {
		d.Method = http.MethodPost
	}
	if d.URL == "" {
		d.URL = s.urlLocked(n.PaymentID)
	}
	s.deliveries = append(s.deliveries, d)
	s.changedLocked()
	switch {
	case d.URL == "":
		d.Done, d.end = true, ErrNoNotifyURL
	case s.loseLocked(n.PaymentID):
		d.Done, d.Lost, d.end = true, true, ErrLost
	case !s.goLocked(func() { s.deliver(d) }):
		d.Done, d.end = true, ErrClosed
	}
}

// deliver sends d until it gets 200, waiting longer after each failure.
func (s *Server) deliver(d *Delivery) {
	wait := s.cfg.Retry.MinWait
	for attempt := 1; ; attempt++ {
		a := s.send(s.ctx, d)
		s.mu.Lock()
		d.Attempts = append(d.Attempts, a)
		switch {
		case a.StatusCode == http.StatusOK:
			d.Delivered, d.Done = true, true
		case attempt >= s.cfg.Retry.MaxAttempts:
			d.Done, d.end = true, ErrGaveUp
		}
		done := d.Done
		s.changedLocked()
		s.mu.Unlock()
		if done {
			return
		}
		if !s.Sleep(wait) { // closed: stop, also when the wait ended at the same time
			s.mu.Lock()
			d.Done, d.end = true, ErrClosed
			s.changedLocked()
			s.mu.Unlock()
			return
		}
		wait = min(2*wait, s.cfg.Retry.MaxWait)
	}
}

// send makes one attempt of d. d's fields read here never change after Notify.
func (s *Server) send(ctx context.Context, d *Delivery) Attempt {
	a := Attempt{Time: time.Now()}
	var body io.Reader
	if d.Body != nil {
		body = bytes.NewReader(d.Body)
	}
	req, err := http.NewRequestWithContext(ctx, d.Method, d.URL, body)
	if err != nil {
		a.Err = err
		return a
	}
	for k, v := range d.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	resp, err := s.notify.Do(req)
	if err != nil {
		a.Err = err
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	a.StatusCode = resp.StatusCode
	return a
}

// changedLocked wakes WaitDelivered callers. s.mu must be held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// copyDelivery returns d with its slices and header copied.
func copyDelivery(d *Delivery) Delivery {
	out := *d
	out.Header = d.Header.Clone()
	out.Body = bytes.Clone(d.Body)
	out.Attempts = append([]Attempt(nil), d.Attempts...)
	return out
}

// Deliveries returns every notification the server queued so far, oldest first, with its
// attempts; replays made by Redeliver included.
func (c *Controls) Deliveries() []Delivery {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	out := make([]Delivery, len(c.s.deliveries))
	for i, d := range c.s.deliveries {
		out[i] = copyDelivery(d)
	}
	return out
}

// WaitDelivered waits until the payment with paymentID (the merchant's id) has at least one
// notification and every notification queued for it so far is done (replays aside). It
// returns nil when all of them were answered 200, and otherwise an error saying why:
// ErrGaveUp when one ran out of attempts, ErrNoNotifyURL when one could not be sent, or
// when none was queued and the payment has no notify URL (so none will come), ErrClosed
// when the server closed first, or ctx's error.
func (c *Controls) WaitDelivered(ctx context.Context, paymentID string) error {
	s := c.s
	key := s.cfg.PaymentKey(paymentID)
	for {
		s.mu.Lock()
		ch := s.changed
		done, err := s.deliveredLocked(key, paymentID)
		s.mu.Unlock()
		if done {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deliveredLocked is WaitDelivered's look at the deliveries of key: done reports whether
// the wait is over, with err its result.
func (s *Server) deliveredLocked(key, paymentID string) (done bool, err error) {
	found := 0
	var failed *Delivery
	for _, d := range s.deliveries {
		if d.Replay || s.cfg.PaymentKey(d.PaymentID) != key {
			continue
		}
		found++
		switch {
		case !d.Done:
			if s.closed {
				// Its goroutine is about to mark it; Close already said how it ends.
				return true, fmt.Errorf("%w: notification %d of payment %s was still being delivered", ErrClosed, d.Seq, paymentID)
			}
			return false, nil
		case !d.Delivered && failed == nil:
			failed = d
		}
	}
	switch {
	case failed != nil:
		return true, deliveryError(failed, paymentID)
	case found > 0:
		return true, nil
	case s.urlLocked(paymentID) == "":
		return true, fmt.Errorf("%w for payment %s: it named none and none is configured, so no notification will come", ErrNoNotifyURL, paymentID)
	case s.closed:
		return true, fmt.Errorf("%w: no notification of payment %s was queued", ErrClosed, paymentID)
	}
	return false, nil
}

// deliveryError says why d, done, was not delivered.
func deliveryError(d *Delivery, paymentID string) error {
	what := fmt.Sprintf("notification %d (%s) of payment %s", d.Seq, d.Event, paymentID)
	switch {
	case errors.Is(d.end, ErrNoNotifyURL):
		return fmt.Errorf("%w: %s was not sent: the payment named none and none is configured", ErrNoNotifyURL, what)
	case d.Lost:
		return fmt.Errorf("%w: %s", ErrLost, what)
	case len(d.Attempts) == 0:
		return fmt.Errorf("%w: %s was not sent", d.end, what)
	}
	last := d.Attempts[len(d.Attempts)-1]
	answer := fmt.Sprintf("status %d", last.StatusCode)
	if last.Err != nil {
		answer = "error: " + last.Err.Error()
	}
	return fmt.Errorf("%w: %s after %d attempts to %s (last %s)", d.end, what, len(d.Attempts), d.URL, answer)
}

// Redeliver sends the latest notification of the payment with paymentID once more, now,
// whatever came of it before, as a provider's replay or a duplicate would arrive. It
// returns the receiver's status, or 0 and the transport error when no answer came; the
// replay is recorded in Deliveries (Replay true) and is never retried. ErrUnknownPayment:
// the payment has no notification that was sent; ErrClosed: the server is closed.
func (c *Controls) Redeliver(ctx context.Context, paymentID string) (int, error) {
	s := c.s
	key := s.cfg.PaymentKey(paymentID)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	var orig *Delivery
	for _, d := range s.deliveries {
		if !d.Replay && !d.Lost && d.URL != "" && s.cfg.PaymentKey(d.PaymentID) == key {
			orig = d
		}
	}
	if orig == nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: no notification of payment %s to send again", ErrUnknownPayment, paymentID)
	}
	d := copyDelivery(orig)
	d.Seq, d.Replay, d.Attempts, d.Delivered, d.Done, d.end = len(s.deliveries)+1, true, nil, false, false, nil
	rec := &d
	s.deliveries = append(s.deliveries, rec)
	s.changedLocked()
	s.mu.Unlock()

	a := s.send(ctx, rec)
	s.mu.Lock()
	rec.Attempts = []Attempt{a}
	rec.Delivered, rec.Done = a.StatusCode == http.StatusOK, true
	if !rec.Delivered {
		rec.end = ErrGaveUp
	}
	s.changedLocked()
	s.mu.Unlock()
	return a.StatusCode, a.Err
}
