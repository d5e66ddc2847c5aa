package paykit_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/paykit/paykit"
)

// invoiceProvider is a Provider of the kind a merchant writes for a provider paykit has no
// package for: here a toy invoice service kept in memory. A real one would send HTTP
// requests with Settings.HTTPClient where this one changes a map; everything else is what
// every Provider must do, with the plumbing the package doc lists under "Writing your own
// Provider".
type invoiceProvider struct {
	settings paykit.Settings // what the merchant's paykit.Options asked for
	secret   []byte          // signs the service's notifications

	mu       sync.Mutex
	invoices map[string]*paykit.Payment
	// ops records the operations done under an IdempotencyKey: (operation, payment id, key)
	// → the amount asked. A real provider keeps this at the provider (Ecster keeps it in the
	// transaction's reference) so that every replica and restart sees it.
	ops  map[[3]string]paykit.Money
	next int
}

func newInvoiceProvider(secret string, opts ...paykit.Option) (*invoiceProvider, error) {
	// NewSettings applies the Options every provider takes (WithHTTPClient, WithTimeout,
	// WithRetry, WithRateLimit, WithLimiter, WithLogger, …) over the defaults and checks them.
	s, err := paykit.NewSettings(opts...)
	if err != nil {
		return nil, err
	}
	return &invoiceProvider{settings: s, secret: []byte(secret),
		invoices: map[string]*paykit.Payment{}, ops: map[[3]string]paykit.Money{}}, nil
}

var _ paykit.Provider = (*invoiceProvider)(nil)

func (p *invoiceProvider) Name() string { return "invoice" }

func (p *invoiceProvider) Capabilities() paykit.Capabilities {
	return paykit.Capabilities{Capture: true, PartialCapture: true, Refund: true, PartialRefund: true, Cancel: true, Webhooks: true}
}

// answer makes the error a provider over HTTP makes of the service's answer: KindForStatus
// gives the sentinel that errors.Is matches (404 ErrNotFound, 409 ErrConflict, 422
// ErrUnprocessable, …). Unprocessed tells the Router that nothing was done, so a create may
// fail over.
func answer(op, id string, status int, msg string) error {
	return &paykit.Error{Provider: "invoice", Op: op, PaymentID: id, StatusCode: status,
		Kind: paykit.KindForStatus(status), Message: msg, Unprocessed: true}
}

// call waits for the merchant's limiter (WithRateLimit, WithLimiter), as every request of a
// real provider would, then locks the invoices.
func (p *invoiceProvider) call(ctx context.Context) error {
	if p.settings.Limiter != nil {
		if err := p.settings.Limiter.Wait(ctx); err != nil {
			return err
		}
	}
	p.mu.Lock()
	return nil
}

func (p *invoiceProvider) CreatePayment(ctx context.Context, req paykit.PaymentRequest) (*paykit.Payment, error) {
	const op = "create payment"
	if req.ID == "" {
		p.mu.Lock()
		p.next++
		req.ID = "inv-" + strconv.Itoa(p.next)
		p.mu.Unlock()
	}
	// The rules every provider shares, then this provider's own; both before anything is sent.
	if err := req.Validate(); err != nil {
		return nil, withID(err, req.ID)
	}
	if req.Amount.Currency != "SEK" && req.Amount.Currency != "EUR" {
		return nil, &paykit.Error{Provider: "invoice", Op: op, PaymentID: req.ID, Kind: paykit.ErrInvalidRequest,
			Message: "invoices are in SEK or EUR", Unprocessed: true}
	}
	if err := p.call(ctx); err != nil {
		return nil, err
	}
	defer p.mu.Unlock()
	if pay, ok := p.invoices[req.ID]; ok {
		// The id is the idempotency key of the create: a repeat returns the invoice as it
		// stands, never a second one.
		return clone(pay), nil
	}
	if req.Reference == "" {
		req.Reference = req.ID
	}
	pay := &paykit.Payment{Provider: "invoice", ID: req.ID, Reference: req.Reference, Amount: req.Amount,
		Captured: paykit.Money{Currency: req.Amount.Currency}, Refunded: paykit.Money{Currency: req.Amount.Currency},
		Status: paykit.StatusPending, ProviderStatus: "SENT",
		Action: &paykit.Action{Type: paykit.ActionRedirect, URL: "https://invoice.example/pay/" + req.ID}}
	p.invoices[req.ID] = pay
	return clone(pay), nil
}

func (p *invoiceProvider) GetPayment(ctx context.Context, id string) (*paykit.Payment, error) {
	if err := p.call(ctx); err != nil {
		return nil, err
	}
	defer p.mu.Unlock()
	pay, ok := p.invoices[id]
	if !ok {
		return nil, answer("get payment", id, http.StatusNotFound, "no such invoice")
	}
	return clone(pay), nil
}

func (p *invoiceProvider) Capture(ctx context.Context, id string, amount paykit.Money, opts ...paykit.CallOption) (*paykit.Payment, error) {
	return p.move(ctx, "capture", id, amount, opts, func(pay *paykit.Payment) (*paykit.Money, paykit.Money, error) {
		if pay.Status != paykit.StatusAuthorized && pay.Status != paykit.StatusPartiallyCaptured {
			return nil, paykit.Money{}, answer("capture", id, http.StatusUnprocessableEntity, "the invoice is "+string(pay.Status))
		}
		return &pay.Captured, pay.Amount, nil
	})
}

func (p *invoiceProvider) Refund(ctx context.Context, id string, amount paykit.Money, opts ...paykit.CallOption) (*paykit.Payment, error) {
	return p.move(ctx, "refund", id, amount, opts, func(pay *paykit.Payment) (*paykit.Money, paykit.Money, error) {
		if pay.Captured.Amount == 0 {
			return nil, paykit.Money{}, answer("refund", id, http.StatusUnprocessableEntity, "nothing was captured")
		}
		return &pay.Refunded, pay.Captured, nil
	})
}

// move does a Capture or a Refund: side picks the total it adds to and its bound.
func (p *invoiceProvider) move(ctx context.Context, op, id string, amount paykit.Money, opts []paykit.CallOption,
	side func(*paykit.Payment) (*paykit.Money, paykit.Money, error)) (*paykit.Payment, error) {
	// The call options and the amount are checked before anything is sent: a bad key, or
	// an amount of 0 with a currency (the zero Money means all that remains).
	co := paykit.NewCallOptions(opts...)
	if err := co.Validate(); err != nil {
		return nil, withID(err, id)
	}
	if err := paykit.CheckAmount(amount); err != nil {
		return nil, withID(err, id)
	}
	if err := p.call(ctx); err != nil {
		return nil, err
	}
	defer p.mu.Unlock()
	pay, ok := p.invoices[id]
	if !ok {
		return nil, answer(op, id, http.StatusNotFound, "no such invoice")
	}
	key := [3]string{op, id, co.IdempotencyKey}
	if co.IdempotencyKey != "" {
		if asked, done := p.ops[key]; done {
			if asked != amount {
				return nil, answer(op, id, http.StatusConflict, "the key was used with another amount")
			}
			return clone(pay), nil // done already: the payment as it is now, nothing moved
		}
	}
	total, bound, err := side(pay)
	if err != nil {
		return nil, err
	}
	move := amount
	if move.IsZero() {
		move = paykit.Money{Amount: bound.Amount - total.Amount, Currency: bound.Currency}
	}
	if move.Currency != pay.Amount.Currency || move.Amount <= 0 || total.Amount+move.Amount > bound.Amount {
		return nil, answer(op, id, http.StatusUnprocessableEntity, "not that much remains")
	}
	total.Amount += move.Amount
	switch {
	case pay.Refunded.Amount > 0 && pay.Refunded.Amount == pay.Captured.Amount:
		pay.Status, pay.ProviderStatus = paykit.StatusRefunded, "CREDITED"
	case pay.Refunded.Amount > 0:
		pay.Status, pay.ProviderStatus = paykit.StatusPartiallyRefunded, "PART_CREDITED"
	case pay.Captured.Amount == pay.Amount.Amount:
		pay.Status, pay.ProviderStatus = paykit.StatusSucceeded, "PAID"
	default:
		pay.Status, pay.ProviderStatus = paykit.StatusPartiallyCaptured, "PART_PAID"
	}
	if co.IdempotencyKey != "" {
		p.ops[key] = amount
	}
	return clone(pay), nil
}

func (p *invoiceProvider) Cancel(ctx context.Context, id string, opts ...paykit.CallOption) (*paykit.Payment, error) {
	if err := paykit.NewCallOptions(opts...).Validate(); err != nil {
		return nil, withID(err, id)
	}
	if err := p.call(ctx); err != nil {
		return nil, err
	}
	defer p.mu.Unlock()
	pay, ok := p.invoices[id]
	if !ok {
		return nil, answer("cancel", id, http.StatusNotFound, "no such invoice")
	}
	switch pay.Status {
	case paykit.StatusCanceled:
		// Canceling twice cancels once: a repeat, keyed or not, returns the state.
	case paykit.StatusPending, paykit.StatusAuthorized:
		pay.Status, pay.ProviderStatus, pay.Action = paykit.StatusCanceled, "VOID", nil
	default:
		return nil, answer("cancel", id, http.StatusUnprocessableEntity, "the invoice is "+string(pay.Status))
	}
	return clone(pay), nil
}

// invoiceEvent is the service's notification: a JSON body signed with HMAC-SHA256 in the
// X-Invoice-Signature header.
type invoiceEvent struct {
	Invoice string `json:"invoice"`
	Event   string `json:"event"`
	Seq     int    `json:"seq"` // the invoice's event number: with the id, it names the event
}

func (p *invoiceProvider) ParseNotification(r *http.Request) (*paykit.Notification, error) {
	const op = "parse notification"
	// ReadNotificationBody reads up to the limit of the NewWebhookHandler serving r
	// (WithMaxBodyBytes), so that a huge body costs no more memory than the limit.
	body, err := paykit.ReadNotificationBody(r)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, p.secret)
	mac.Write(body)
	got, _ := hex.DecodeString(r.Header.Get("X-Invoice-Signature"))
	if len(p.secret) == 0 || !hmac.Equal(got, mac.Sum(nil)) {
		// The handler answers 401 (RefusalStatus) and changes nothing.
		return nil, &paykit.Error{Provider: "invoice", Op: op, Kind: paykit.ErrInvalidSignature}
	}
	var ev invoiceEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Invoice == "" {
		return nil, &paykit.Error{Provider: "invoice", Op: op, Kind: paykit.ErrInvalidRequest, Message: "malformed event", Err: err}
	}
	return &paykit.Notification{Provider: "invoice", PaymentID: ev.Invoice, Event: ev.Event,
		// Made only of what was signed: a redelivery of this event has the same key.
		DedupKey: ev.Invoice + "/" + strconv.Itoa(ev.Seq)}, nil
}

// accept plays the customer who accepts the invoice, and returns the notification the
// service then sends: its body and signature.
func (p *invoiceProvider) accept(id string) (body []byte, signature string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pay := p.invoices[id]
	pay.Status, pay.ProviderStatus, pay.Action = paykit.StatusAuthorized, "ACCEPTED", nil
	body, _ = json.Marshal(invoiceEvent{Invoice: id, Event: "accepted", Seq: 1})
	mac := hmac.New(sha256.New, p.secret)
	mac.Write(body)
	return body, hex.EncodeToString(mac.Sum(nil))
}

func clone(pay *paykit.Payment) *paykit.Payment {
	cp := *pay
	if pay.Action != nil {
		a := *pay.Action
		cp.Action = &a
	}
	return &cp
}

// withID names the payment in a check's error, as every error of a Provider should.
func withID(err error, id string) error {
	var pe *paykit.Error
	if errors.As(err, &pe) {
		cp := *pe
		cp.Provider, cp.PaymentID = "invoice", id
		return &cp
	}
	return err
}

// Example_customProvider runs a Provider written outside paykit (invoiceProvider above) in a
// Router and behind NewWebhookHandler: the Router records it as the payment's owner and
// passes the IdempotencyKey on; the handler verifies, dedupes and fetches as for any of
// paykit's own providers.
func Example_customProvider() {
	ctx := context.Background()
	invoices, err := newInvoiceProvider("whsec-demo")
	if err != nil {
		fmt.Println(err)
		return
	}
	router, err := paykit.NewRouter([]paykit.Provider{invoices},
		[]paykit.Route{{Name: "invoices", Match: paykit.Match{Currencies: []string{"SEK", "EUR"}}, Providers: []string{"invoice"}}})
	if err != nil {
		fmt.Println(err)
		return
	}

	pay, err := router.CreatePayment(ctx, paykit.PaymentRequest{ID: "order-42", Amount: paykit.Money{Amount: 10000, Currency: "SEK"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created:", pay.ID, pay.Status, pay.Action.Type, pay.Action.URL)

	// The merchant's webhook endpoint, served as in production.
	handler := paykit.NewWebhookHandler(invoices, func(ctx context.Context, n *paykit.Notification) error {
		fmt.Println("fn:", n.PaymentID, n.Event, "fetched", n.Payment.Status)
		return nil
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	deliver := func(what string, body []byte, signature string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Invoice-Signature", signature)
		resp, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(what+":", resp.StatusCode)
	}
	body, signature := invoices.accept("order-42") // the customer accepts the invoice
	deliver("notification", body, signature)
	deliver("replay", body, signature) // fn does not run again
	deliver("forged", body, strings.Repeat("0", 64))

	// Capture with an operation key: a repeat (after a timeout, from another replica) does
	// not capture twice, and the key with another amount is refused.
	forty := paykit.Money{Amount: 4000, Currency: "SEK"}
	pay, err = router.Capture(ctx, "order-42", forty, paykit.IdempotencyKey("shipment-1"))
	fmt.Println("capture:", pay.Captured, pay.Status, err)
	pay, err = router.Capture(ctx, "order-42", forty, paykit.IdempotencyKey("shipment-1"))
	fmt.Println("repeat:", pay.Captured, pay.Status, err)
	_, err = router.Capture(ctx, "order-42", paykit.Money{Amount: 5000, Currency: "SEK"}, paykit.IdempotencyKey("shipment-1"))
	fmt.Println("same key, other amount is a conflict:", errors.Is(err, paykit.ErrConflict))
	pay, err = router.Capture(ctx, "order-42", paykit.Money{}, paykit.IdempotencyKey("shipment-2")) // all that remains
	fmt.Println("capture the rest:", pay.Captured, pay.Status, err)

	pay, err = router.Refund(ctx, "order-42", paykit.Money{Amount: 2500, Currency: "SEK"}, paykit.IdempotencyKey("return-7"))
	fmt.Println("refund:", pay.Refunded, pay.Status, err)
	_, err = router.Cancel(ctx, "order-42")
	fmt.Println("cancel after capture is unprocessable:", errors.Is(err, paykit.ErrUnprocessable))

	pay, err = router.GetPayment(ctx, "order-42")
	fmt.Println("get:", pay.Provider, pay.Status, pay.Captured, pay.Refunded, err)
	_, err = router.GetPayment(ctx, "order-43")
	fmt.Println("unknown id:", errors.Is(err, paykit.ErrNotFound))
	// Output:
	// created: order-42 pending redirect https://invoice.example/pay/order-42
	// fn: order-42 accepted fetched authorized
	// notification: 200
	// replay: 200
	// forged: 401
	// capture: 40.00 SEK partially_captured <nil>
	// repeat: 40.00 SEK partially_captured <nil>
	// same key, other amount is a conflict: true
	// capture the rest: 100.00 SEK succeeded <nil>
	// refund: 25.00 SEK partially_refunded <nil>
	// cancel after capture is unprocessable: true
	// get: invoice partially_refunded 100.00 SEK 25.00 SEK <nil>
	// unknown id: true
}
