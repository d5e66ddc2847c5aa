package entrecardtest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paykit/paykit/entrecard"
)

// DeliveryState says where the deliveries of a transaction's result stand.
type DeliveryState string

// The delivery states.
const (
	Delivering DeliveryState = "delivering" // no 200 yet; more attempts to come
	Delivered  DeliveryState = "delivered"  // the notify URL answered 200
	GaveUp     DeliveryState = "gave_up"    // attempts exhausted, or the server closed first
)

// Transaction is a purchase the buyer confirmed or cancelled, with its result.
type Transaction struct {
	ID          string // transaction_id
	SellerID    string
	ItemID      string
	Description string
	Quantity    int
	Cost        int64
	Total       int64
	Buyer       string // "" when the buyer cancelled without signing in
	Status      entrecard.Status
	NotifyURL   string
	SuccessURL  string
	CancelURL   string
	Delivery    DeliveryState
	Attempts    int    // deliveries made by the retry loop, not counting Redeliver
	Result      string // the signed result query sent and appended to the redirect
	Created     time.Time
}

// Delivery is one attempt to send a result to a notify URL.
type Delivery struct {
	TransactionID string
	Attempt       int    // 1 for the first; 0 for a Redeliver
	Method        string // GET or POST
	URL           string // the URL called, with the result appended for GET
	StatusCode    int    // the answer's status; 0 when none came
	Err           string // the transport error, when no answer came
	Time          time.Time
}

// purchase creates the transaction of a confirmed (or cancelled) link, moves the credits,
// starts delivering the result and redirects the buyer.
func (s *Server) purchase(l link, buyer string, cancel bool) response {
	s.mu.Lock()
	// Confirming needs a signed-in buyer; cancelling does not, but a name given must be known.
	if _, ok := s.buyers[buyer]; !ok && (buyer != "" || !cancel) {
		s.mu.Unlock()
		return textResponse(http.StatusUnauthorized, "Sign in as a known buyer.")
	}
	total := l.total()
	status := entrecard.StatusCancelled
	if !cancel {
		switch {
		case s.buyers[buyer] < total:
			status = entrecard.StatusFailed
		case s.escrow:
			status = entrecard.StatusEscrow
		default:
			status = entrecard.StatusComplete
		}
	}
	if status.IsComplete() {
		fee := entrecard.Fee(total)
		s.buyers[buyer] -= total
		s.sellers[l.seller].balance += total - fee
		s.fees += fee
	}
	id := strconv.FormatInt(s.nextTxn, 10)
	s.nextTxn++
	t := &Transaction{
		ID: id, SellerID: l.seller, ItemID: l.id, Description: l.description, Quantity: l.quantity,
		Cost: l.cost, Total: total, Buyer: buyer, Status: status,
		NotifyURL: l.notify, SuccessURL: l.success, CancelURL: l.cancel,
		Delivery: Delivering, Created: time.Now(),
	}
	t.Result = ResultQuery(s.sellers[l.seller].secret, entrecard.Result{SellerID: l.seller, ID: l.id, Total: total, TransactionID: id, Status: status})
	s.txns = append(s.txns, t)
	s.byTxn[id] = t
	if !s.fake.Go(func() { s.deliverLoop(t) }) { // closed
		t.Delivery = GaveUp
	}
	s.mu.Unlock()

	back := l.cancel
	if status.IsComplete() {
		back = l.success
	}
	return redirectResponse(appendQuery(back, t.Result))
}

// deliverLoop sends t's result until the notify URL answers 200, the attempts run out or the
// server closes.
func (s *Server) deliverLoop(t *Transaction) {
	for attempt := 1; ; attempt++ {
		code, _ := s.send(s.fake.Context(), t, attempt)
		s.mu.Lock()
		t.Attempts = attempt
		s.mu.Unlock()
		if code == http.StatusOK {
			s.endDelivery(t, Delivered)
			return
		}
		if attempt >= s.cfg.MaxDeliveryAttempts {
			s.endDelivery(t, GaveUp)
			return
		}
		if !s.fake.Sleep(s.cfg.RetryInterval) {
			s.endDelivery(t, GaveUp)
			return
		}
	}
}

func (s *Server) endDelivery(t *Transaction, state DeliveryState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Delivery = state
	s.notifyLocked()
}

// send makes one delivery of t's result and returns the answer's status, or 0 and the error
// when no answer came.
func (s *Server) send(ctx context.Context, t *Transaction, attempt int) (int, error) {
	s.mu.Lock()
	method, notify, result := s.cfg.NotifyMethod, t.NotifyURL, t.Result
	s.mu.Unlock()
	d := Delivery{TransactionID: t.ID, Attempt: attempt, Method: method, Time: time.Now()}
	var req *http.Request
	var err error
	if method == http.MethodPost {
		d.URL = notify
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, notify, strings.NewReader(result))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		d.URL = appendQuery(notify, result)
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	}
	if err == nil {
		req.Header.Set("User-Agent", "entrecardtest")
		var resp *http.Response
		resp, err = s.notify.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			d.StatusCode = resp.StatusCode
		}
	}
	if err != nil {
		d.Err = err.Error()
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	return d.StatusCode, err
}

// Redeliver sends the result of transaction id once more, now, whatever its delivery state,
// as a replayed or duplicated notification would arrive. It returns the answer's status (0
// and the error when none came).
func (s *Server) Redeliver(ctx context.Context, id string) (int, error) {
	s.mu.Lock()
	t, ok := s.byTxn[id]
	s.mu.Unlock()
	closed := s.fake.Closed()
	switch {
	case !ok:
		return 0, ErrUnknownTransaction
	case closed:
		return 0, ErrClosed
	}
	return s.send(ctx, t, 0)
}

// Deliveries returns every delivery attempt so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Transactions returns every transaction so far, oldest first.
func (s *Server) Transactions() []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Transaction, len(s.txns))
	for i, t := range s.txns {
		out[i] = *t
	}
	return out
}

// Transaction returns the transaction with transaction_id id.
func (s *Server) Transaction(id string) (Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.byTxn[id]
	if !ok {
		return Transaction{}, false
	}
	return *t, true
}

// WaitDelivered waits until the result of transaction id was answered 200 (nil), its
// deliveries gave up (ErrGaveUp), the server closed (ErrClosed) or ctx ended (its error).
func (s *Server) WaitDelivered(ctx context.Context, id string) error {
	for {
		s.mu.Lock()
		t, ok := s.byTxn[id]
		if !ok {
			s.mu.Unlock()
			return ErrUnknownTransaction
		}
		state, closed, ch := t.Delivery, s.fake.Closed(), s.changed
		s.mu.Unlock()
		switch {
		case state == Delivered:
			return nil
		case state == GaveUp:
			return ErrGaveUp
		case closed:
			return ErrClosed
		}
		select {
		case <-ch:
		case <-s.fake.Context().Done(): // Close came: look again
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitIdle waits until no result is being delivered: every transaction's result was
// answered 200 or gave up. It returns ctx's error if ctx ends first.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		busy := false
		for _, t := range s.txns {
			if t.Delivery == Delivering {
				busy = true
				break
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
