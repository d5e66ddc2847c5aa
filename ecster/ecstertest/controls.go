package ecstertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/internal/fakeserver"
)

// EventStatusChanged is the event word of the OENs the fake sends when Ecster changes an
// order's status on its own (SetStatus, Expire, Block, ManualProcessing). ASSUMPTION: the
// document lists events only for transactions and shows CREATED in its example; an OEN must
// name one.
const EventStatusChanged ecster.OrderEvent = "STATUS_CHANGED"

// DefaultNationalID is the national id of the consumer of orders whose cart named none.
const DefaultNationalID ecster.NationalID = "SE530516-9756"

// Pay simulates the consumer completing Ecster's checkout for the payment with paymentID
// (the orderReference), with an invoice that Ecster approves at once: the newest open cart
// becomes an order in status READY (the payment is authorized; the merchant debits it), and
// an OEN (event CREATED) is sent to the cart's notificationUrl. It returns Ecster's id of the
// new order.
func (s *Server) Pay(paymentID string) (string, error) {
	return s.completeCheckout(paymentID, ecster.OrderReady)
}

// Decline simulates Ecster denying the consumer at the checkout: an order in status DENIED.
func (s *Server) Decline(paymentID string) error {
	return s.CompleteCheckout(paymentID, ecster.OrderDenied)
}

// Abort simulates the consumer aborting the payment at the checkout: an order in status
// ABORTED.
func (s *Server) Abort(paymentID string) error {
	return s.CompleteCheckout(paymentID, ecster.OrderAborted)
}

// CompleteCheckout simulates the consumer completing the checkout of the newest open cart of
// the payment with paymentID, Ecster giving the order status: READY (approved),
// PENDING_PAYMENT, PENDING_DECISION, PENDING_SIGNATURE, PENDING_PROCESSING,
// MANUAL_PROCESSING, DENIED, FAILED, ABORTED, BLOCKED, EXPIRED, FULLY_DELIVERED (a method
// charged at purchase, as Swish: the whole amount is debited at once), or any other word
// (kept as it is, to test unknown statuses). PARTIALLY_DELIVERED and ANNULLED come only from
// the merchant's transactions (ErrBadStatus). The cart closes, the order is created with an
// INITIAL transaction of its amount, and an OEN (event CREATED) is sent.
//
// ErrUnknownPayment: no cart has that orderReference; ErrNoCart: none of its carts is open.
func (s *Server) CompleteCheckout(paymentID string, status ecster.OrderStatus) error {
	_, err := s.completeCheckout(paymentID, status)
	return err
}

func (s *Server) completeCheckout(paymentID string, status ecster.OrderStatus) (string, error) {
	status = ecster.ParseOrderStatus(string(status))
	if status == ecster.OrderPartiallyDelivered || status == ecster.OrderAnnulled || status == "" {
		return "", fmt.Errorf("%w: a checkout cannot end %q", ErrBadStatus, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fake.Closed() {
		return "", ErrClosed
	}
	carts := s.byRef[paymentID]
	if len(carts) == 0 {
		return "", fmt.Errorf("%w: no cart has orderReference %s", ErrUnknownPayment, paymentID)
	}
	var c *cart
	for i := len(carts) - 1; i >= 0 && c == nil; i-- {
		if carts[i].open {
			c = carts[i]
		}
	}
	if c == nil {
		return "", fmt.Errorf("%w: %s", ErrNoCart, paymentID)
	}
	c.open = false
	now := s.Now()
	o := &order{
		id: randomID(20), ref: c.ref, status: status, created: now, amount: c.amount, currency: c.currency,
		method: ecster.MethodInvoice, submethod: "INVOICE_SE_1", consumer: c.consumer, notifyURL: c.notifyURL,
	}
	if o.consumer == nil {
		o.consumer = defaultConsumer()
	}
	o.txs = append(o.txs, &transaction{id: randomID(20), typ: ecster.TransactionInitial, created: now, amount: c.amount})
	if status == ecster.OrderFullyDelivered {
		o.method, o.submethod = ecster.MethodSwish, "SWISH_SE_1"
		o.debited = o.amount
		o.txs = append(o.txs, &transaction{id: randomID(20), typ: ecster.TransactionDebit, created: now, amount: c.amount})
	}
	s.orders[o.id] = o
	s.refs[o.ref] = append(s.refs[o.ref], o)
	s.notifyLocked(o, ecster.EventCreated, "")
	return o.id, nil
}

// SetStatus simulates Ecster changing the status of the newest order of the payment with
// paymentID on its own, e.g. deciding a PENDING_DECISION order (READY or DENIED), and sends
// an OEN (event EventStatusChanged). The statuses that transactions make
// (PARTIALLY_DELIVERED, FULLY_DELIVERED, ANNULLED) are ErrBadStatus.
func (s *Server) SetStatus(paymentID string, status ecster.OrderStatus) error {
	status = ecster.ParseOrderStatus(string(status))
	switch status {
	case "", ecster.OrderPartiallyDelivered, ecster.OrderFullyDelivered, ecster.OrderAnnulled:
		return fmt.Errorf("%w: %q comes from transactions", ErrBadStatus, status)
	}
	return s.change(paymentID, status, false)
}

// Expire simulates Ecster expiring the newest order of the payment with paymentID (too old
// to be delivered): status EXPIRED, and an OEN. An order with something debited does not
// expire (ErrBadStatus).
func (s *Server) Expire(paymentID string) error {
	return s.change(paymentID, ecster.OrderExpired, true)
}

// Block simulates Ecster stopping the newest order of the payment with paymentID, e.g. for
// suspected fraud: status BLOCKED, and an OEN. An order with something debited is not
// blocked (ErrBadStatus).
func (s *Server) Block(paymentID string) error {
	return s.change(paymentID, ecster.OrderBlocked, true)
}

// ManualProcessing simulates Ecster taking the newest order of the payment with paymentID
// into manual handling: status MANUAL_PROCESSING, and an OEN. An order with something
// debited is not (ErrBadStatus).
func (s *Server) ManualProcessing(paymentID string) error {
	return s.change(paymentID, ecster.OrderManualProcessing, true)
}

func (s *Server) change(paymentID string, status ecster.OrderStatus, undebitedOnly bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fake.Closed() {
		return ErrClosed
	}
	list := s.refs[paymentID]
	if len(list) == 0 {
		if len(s.byRef[paymentID]) == 0 {
			return fmt.Errorf("%w: no order has orderReference %s", ErrUnknownPayment, paymentID)
		}
		return fmt.Errorf("%w: %s", ErrNoOrder, paymentID)
	}
	o := list[len(list)-1]
	if undebitedOnly && (o.debited > 0 || o.status == ecster.OrderAnnulled) {
		return fmt.Errorf("%w: order %s of %s is %s with %d debited", ErrBadStatus, o.id, paymentID, o.status, o.debited)
	}
	o.status = status
	s.notifyLocked(o, EventStatusChanged, "")
	return nil
}

// OEN is the body of an Order Event Notification. TransactionID is sent with the events of
// transactions (ASSUMPTION: one public integration reads it when present; the document
// does not show it).
type OEN struct {
	OrderID        string `json:"orderId"`
	OrderReference string `json:"orderReference,omitempty"`
	Status         string `json:"status"`
	Time           string `json:"time"`
	Event          string `json:"event"`
	TransactionID  string `json:"transactionId,omitempty"`
}

// Body returns the OEN's JSON.
func (n OEN) Body() []byte {
	b, err := json.Marshal(n)
	if err != nil {
		panic("ecstertest: marshal OEN: " + err.Error()) // cannot happen
	}
	return b
}

// NewOENRequest returns an incoming (server-side) OEN request to target carrying n, with
// the custom header name: value when name is not empty, ready for
// handler.ServeHTTP(recorder, req) (it is made with httptest.NewRequest, so it cannot be
// sent with an http.Client; post n.Body() for that).
func NewOENRequest(target string, n OEN, name, value string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(n.Body()))
	r.Header.Set("Content-Type", contentTypeJSON)
	if name != "" {
		r.Header.Set(name, value)
	}
	return r
}

// notifyLocked sends an OEN about o to its cart's notificationUrl (exactly, query kept), or
// Config.NotifyURL, with the custom header. s.mu must be held.
func (s *Server) notifyLocked(o *order, event ecster.OrderEvent, txID string) {
	n := OEN{
		OrderID: o.id, OrderReference: o.ref, Status: string(o.status),
		Time: s.Now().UTC().Format("2006-01-02T15:04:05Z"), Event: string(event), TransactionID: txID,
	}
	h := http.Header{"Content-Type": {contentTypeJSON}}
	if s.cfg.NotificationHeader != "" {
		h.Set(s.cfg.NotificationHeader, s.cfg.NotificationHeaderValue)
	}
	s.fake.Notify(fakeserver.Notification{
		PaymentID: o.ref,
		Event:     string(event),
		Method:    http.MethodPost,
		URL:       o.notifyURL, // "": Config.NotifyURL
		Header:    h,
		Body:      n.Body(),
	})
}
