package entrecard

import (
	"context"
	"net/http"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
)

// Currency is the paykit currency of Entrecard credits, "EC", which has no minor unit.
const Currency = "EC"

var _ paykit.Provider = (*Client)(nil)

// Name returns "entrecard".
func (c *Client) Name() string { return ProviderName }

// Capabilities: Entrecard takes payments and sends results to the notify URL; its Payments
// API has nothing to capture, refund or cancel with.
func (c *Client) Capabilities() paykit.Capabilities {
	return paykit.Capabilities{Webhooks: true}
}

// CreatePayment builds the signed buy link and records the order in the store; it makes no
// network call. The payment is pending with a redirect Action to the link.
//
// The amount must be in EC (credits). Without Items the link asks for quantity 1 at
// Amount; with one Item it asks for Item.Quantity at Item.UnitAmount (paykit checks that they
// multiply to Amount); more than one Item is refused, because a link carries one item.
// req.ID becomes the link's item id (generated as 32 lowercase hex digits when empty), so it
// must be 1 to 32 of [A-Za-z0-9_-]. The description is req.Description, or the Item's Name
// when that is empty. NotifyURL, ReturnURL (Entrecard's success URL) and CancelURL are all
// required. Customer, Locale and Reference are not used: Entrecard keeps no reference of the
// merchant's, so Payment.Reference is the payment id, on this and every later call.
//
// Calling it again with the same ID and the same request returns the payment as it stands
// (with no Action once a result arrived, so nobody is sent to pay twice); the same ID with a
// different request is paykit.ErrConflict.
//
// Every error carries the payment id in paykit.Error.PaymentID.
func (c *Client) CreatePayment(ctx context.Context, req paykit.PaymentRequest) (pay *paykit.Payment, err error) {
	const op = "create payment"
	if req.ID == "" {
		req.ID = NewID()
	}
	ctx, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCreatePayment, req.ID)
	defer func() { done.Payment(pay, err) }()
	p, err := c.createPayment(ctx, op, req)
	if err != nil {
		return nil, perr.WithPaymentID(err, op, req.ID)
	}
	return p, nil
}

func (c *Client) createPayment(ctx context.Context, op string, req paykit.PaymentRequest) (*paykit.Payment, error) {
	if err := req.Validate(); err != nil {
		return nil, perr.WithOp(err, op)
	}
	if req.Amount.Currency != Currency {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the amount must be in %s (Entrecard credits), got %q", Currency, req.Amount.Currency)
	}
	if len(req.Items) > 1 {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "a buy link carries one item, got %d", len(req.Items))
	}
	br := BuyRequest{
		ItemID:      req.ID,
		Description: req.Description,
		Quantity:    1,
		Cost:        req.Amount.Amount,
		NotifyURL:   req.NotifyURL,
		SuccessURL:  req.ReturnURL,
		CancelURL:   req.CancelURL,
	}
	if len(req.Items) == 1 {
		it := req.Items[0]
		br.Quantity, br.Cost = it.Quantity, it.UnitAmount.Amount
		if br.Description == "" {
			br.Description = it.Name
		}
	}
	link, err := c.buyURL(op, br)
	if err != nil {
		return nil, err
	}
	o := Order{
		ID:          req.ID,
		Description: br.Description,
		Quantity:    br.Quantity,
		Cost:        br.Cost,
		BuyURL:      link,
		CreatedAt:   now().UTC(),
	}
	stored, created, err := c.store.SaveOrder(ctx, o)
	if err != nil {
		return nil, storeError(op, err)
	}
	if !created && !sameOrder(stored, o) {
		return nil, perr.Errorf(op, paykit.ErrConflict, "payment id %q is already used for a different payment", req.ID)
	}
	c.built(stored.ID, stored.BuyURL)
	if created {
		return paymentOf(Entry{Order: &stored}), nil
	}
	// The same request again: answer with the payment as it stands.
	return c.GetPayment(ctx, req.ID)
}

func sameOrder(a, b Order) bool {
	return a.ID == b.ID && a.Description == b.Description &&
		a.Quantity == b.Quantity && a.Cost == b.Cost && a.BuyURL == b.BuyURL
}

// GetPayment answers from the store, because Entrecard has no API to ask: an id the store does
// not know is paykit.ErrNotFound; an order without a result is pending (with its buy link as
// the Action); otherwise the deciding result gives the status — a complete (or escrow) result
// wins over others, else the latest one counts. A payment CreatePayment returned is known at
// once to this client and to every client sharing its Store; a replica with a store of its
// own answers paykit.ErrNotFound until a result for it arrives there. Payment.Reference is the
// payment id. A Store's failure is paykit.ErrStoreUnavailable.
func (c *Client) GetPayment(ctx context.Context, id string) (pay *paykit.Payment, err error) {
	const op = "get payment"
	ctx, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpGetPayment, id)
	defer func() { done.Payment(pay, err) }()
	e, ok, err := c.store.Lookup(ctx, id)
	if err != nil {
		return nil, storeError(op, err)
	}
	if !ok || (e.Order == nil && len(e.Results) == 0) {
		return nil, perr.Errorf(op, paykit.ErrNotFound, "no payment with id %q", id)
	}
	return paymentOf(e), nil
}

// paymentOf turns what the store knows into a paykit.Payment.
func paymentOf(e Entry) *paykit.Payment {
	p := &paykit.Payment{Provider: ProviderName, Status: paykit.StatusPending}
	if o := e.Order; o != nil {
		p.ID, p.CreatedAt = o.ID, o.CreatedAt
		p.Amount = paykit.Money{Amount: o.Total(), Currency: Currency}
	}
	r, ok := decisive(e.Results)
	if !ok {
		if e.Order != nil {
			p.Action = &paykit.Action{Type: paykit.ActionRedirect, URL: e.Order.BuyURL}
		}
	} else {
		if e.Order == nil {
			// Known only from a verified result: its signed total is what was asked.
			p.ID = r.ID
			p.Amount = paykit.Money{Amount: r.Total, Currency: Currency}
		}
		p.ProviderID = r.TransactionID
		p.ProviderStatus = string(r.Status)
		p.Status = r.Status.PaykitStatus()
	}
	// Entrecard keeps no reference of the merchant's (a link carries none): the payment id is
	// the reference, the same on every call, whether the order is known or only a result.
	p.Reference = p.ID
	p.Captured = paykit.Money{Currency: Currency}
	p.Refunded = paykit.Money{Currency: Currency}
	if p.Status == paykit.StatusSucceeded {
		p.Captured = p.Amount
	}
	return p
}

// Capture is not supported: a complete result means the credits were transferred.
func (c *Client) Capture(ctx context.Context, id string, _ paykit.Money, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCapture, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("capture", "Entrecard transfers the credits when the buyer confirms")
}

// Refund is not supported: Entrecard's Payments API has no refunds.
func (c *Client) Refund(ctx context.Context, id string, _ paykit.Money, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpRefund, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("refund", "Entrecard's Payments API has no refunds")
}

// Cancel is not supported: an unpaid buy link is simply never confirmed.
func (c *Client) Cancel(ctx context.Context, id string, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCancel, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("cancel", "an Entrecard buy link cannot be withdrawn")
}

// ParseNotification verifies a result delivered to the notify URL and records it; see
// ReadNotification for the rules. Event is the status word; DedupKey is made from the
// transaction_id, so every redelivery of a result has the same one.
func (c *Client) ParseNotification(r *http.Request) (n *paykit.Notification, err error) {
	r, done := c.hooks.StartNotification(r, ProviderName)
	defer func() { done.Notification(n, err) }()
	res, err := c.ReadNotification(r)
	if err != nil {
		return nil, err
	}
	return &paykit.Notification{
		Provider:  ProviderName,
		PaymentID: res.ID,
		Event:     string(res.Status),
		Status:    res.Status.PaykitStatus(),
		DedupKey:  "transaction:" + res.TransactionID,
	}, nil
}

// storeError is the error of op when the Store failed: paykit.ErrStoreUnavailable (which
// also matches paykit.ErrUnavailable), or the context's error when that ended the call. It
// says once that the store failed, not Entrecard:
// `paykit: entrecard: get payment: store unavailable: result store: redis: …`.
func storeError(op string, err error) error {
	return perr.Store(op, "result store", err)
}

// NewID returns a new payment id Entrecard takes (NewID): the Router generates ids through
// it (paykit.IDMaker).
func (c *Client) NewID() string { return NewID() }

// CheckID returns an error matching paykit.ErrInvalidRequest when Entrecard cannot hold id as
// an item id (paykit's id rule, then [A-Za-z0-9_-]{1,32}): the Router gives a generated id to
// Entrecard only if it takes it (paykit.IDChecker).
func (c *Client) CheckID(id string) error {
	if err := ids.Check(id); err != nil {
		return perr.Errorf("check id", paykit.ErrInvalidRequest, "%v", err)
	}
	if !validItemID(id) {
		return perr.Errorf("check id", paykit.ErrInvalidRequest, "Entrecard item ids are 1 to 32 of [A-Za-z0-9_-]")
	}
	return nil
}

// NotificationMethods returns GET, HEAD, POST and PUT: Entrecard appends its result to the
// notify URL's query and may request it with any of them, so NewWebhookHandler allows them
// (paykit.NotificationMethoder).
func (c *Client) NotificationMethods() []string {
	return []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut}
}

var _ paykit.IDMaker = (*Client)(nil)
var _ paykit.IDChecker = (*Client)(nil)
var _ paykit.NotificationMethoder = (*Client)(nil)
