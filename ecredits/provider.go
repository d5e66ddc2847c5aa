package ecredits

import (
	"context"
	"net/http"

	"github.com/paykit/paykit"
)

// ProviderName is the name in Payment.Provider and Notification.Provider.
const ProviderName = "ecredits"

var _ paykit.Provider = (*Client)(nil)

// Name returns "ecredits".
func (c *Client) Name() string { return ProviderName }

// Capabilities: eCredits takes payments and sends webhooks; it cannot capture, refund (refunds
// are made by hand in the Portal or app) or cancel.
func (c *Client) Capabilities() paykit.Capabilities {
	return paykit.Capabilities{Webhooks: true}
}

// CreatePayment creates a transaction request and returns a payment whose Action is a QR code
// (QRCode is the text to encode, URL the universal link for the same device). req.ID must be
// a GUID or empty (then NewID makes one); the amount must be EUR or ECS. req.Reference
// (default: the id in lower case, as Payment.ID shows it) is sent as the paymentReference,
// which eCredits keeps and answers on every read: Payment.Reference is the same from
// CreatePayment, GetPayment and the webhook handler's fetch. Items, Customer and the URLs
// are not sent: eCredits takes none of them, and its webhook URL is set in the Portal.
//
// Repeating CreatePayment with the id of a request that exists returns its current state and
// never a new way to pay it: a paid request comes back succeeded without an Action, an
// expired one expired. Ids compare ignoring case, and Payment.ID is the id in lower case
// (its canonical form, as GetPayment and ParseNotification give it). Concurrent calls with
// one id on one Client run one after the other; across clients and processes eCredits
// itself keeps one request per id (a repeat answers 409 and is resolved to the existing
// request). Every error carries the payment id, as given, in paykit.Error.PaymentID.
func (c *Client) CreatePayment(ctx context.Context, req paykit.PaymentRequest) (pay *paykit.Payment, err error) {
	const op = "create payment"
	if req.ID == "" {
		req.ID = NewID()
	}
	ctx, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCreatePayment, req.ID)
	defer func() { done.Payment(pay, err) }()
	p, err := c.lockedCreatePayment(ctx, op, req)
	if err != nil {
		return nil, perr.WithPaymentID(err, op, req.ID)
	}
	return p, nil
}

func (c *Client) lockedCreatePayment(ctx context.Context, op string, req paykit.PaymentRequest) (*paykit.Payment, error) {
	// The id is checked before it keys a lock, so that a lock is only ever taken for an id
	// that could reach eCredits.
	if err := checkID(op, req.ID); err != nil {
		return nil, err
	}
	if c.locks != nil { // nil only in a Client not made by New
		unlock, err := c.locks.Lock(ctx, canonicalID(req.ID))
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	return c.createPayment(ctx, op, req)
}

func (c *Client) createPayment(ctx context.Context, op string, req paykit.PaymentRequest) (*paykit.Payment, error) {
	if err := req.Validate(); err != nil {
		return nil, perr.WithOp(err, op)
	}
	if req.Reference == "" {
		// The id as Payment.ID shows it, so that a defaulted reference reads the same.
		req.Reference = canonicalID(req.ID)
	}
	r, existed, err := c.createRequest(ctx, op, CreateRequestParams{ID: req.ID, Amount: req.Amount, PaymentReference: req.Reference})
	if err != nil {
		return nil, err
	}
	paid := false
	if existed {
		// The request was there before this call (a reloaded checkout page, or an earlier
		// attempt whose answer was lost): it may be paid already, and a paid request must not
		// come back with a QR code to pay it again.
		if paid, err = c.Paid(ctx, req.ID); err != nil {
			return nil, perr.WithOp(err, op)
		}
	}
	p := c.payment(r, paid, req.ID)
	if !existed {
		p.CreatedAt = now()
	}
	return p, nil
}

// GetPayment fetches the request and whether it is paid: paid is succeeded; else past its
// expiry is expired; else pending, with the QR action to show again. Payment.Reference is
// the paymentReference eCredits keeps (the id for a request made without one), the same as
// CreatePayment answered. eCredits creates the request in CreatePayment's own call, so
// GetPayment knows a payment from the moment CreatePayment returned, on every replica.
//
// id is compared ignoring case; Payment.ID is its canonical form, lower case, whatever case
// id was given in, so that a webhook replayed with the id's letters in another case is the
// same payment to paykit.NewWebhookHandler's dedupe (ProviderID keeps the id as eCredits
// answered it).
func (c *Client) GetPayment(ctx context.Context, id string) (pay *paykit.Payment, err error) {
	ctx, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpGetPayment, id)
	defer func() { done.Payment(pay, err) }()
	r, err := c.GetRequest(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	paid, err := c.Paid(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.payment(r, paid, id), nil
}

// payment maps a request to paykit's Payment under the canonical form of id, the id asked
// for (the answer's own id may be spelt in another case).
func (c *Client) payment(r *Request, paid bool, id string) *paykit.Payment {
	status := statusOf(paid, r.ExpiresAt, now())
	providerID := r.ID
	if providerID == "" {
		providerID = id
	}
	reference := r.PaymentReference
	if reference == "" {
		// A request made without one (CreateRequest with no PaymentReference): the rule for
		// a payment with no reference of its own is its id.
		reference = canonicalID(id)
	}
	p := &paykit.Payment{
		Provider:       ProviderName,
		ID:             canonicalID(id),
		ProviderID:     providerID,
		Reference:      reference,
		Amount:         r.Asked(),
		Captured:       paykit.Money{Currency: r.Asked().Currency},
		Refunded:       paykit.Money{Currency: r.Asked().Currency},
		Status:         status.PaykitStatus(),
		ProviderStatus: status.String(),
		ExpiresAt:      r.ExpiresAt,
	}
	switch status {
	case RequestSettled:
		p.Captured = p.Amount
	case RequestPending:
		p.Action = &paykit.Action{Type: paykit.ActionQRCode, QRCode: r.QRCodeString, URL: r.Href}
	}
	return p
}

// Capture is not supported: a paid request is settled at once.
func (c *Client) Capture(ctx context.Context, id string, _ paykit.Money, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCapture, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("capture", "eCredits settles payments at once")
}

// Refund is not supported by the API: refunds are made in the eCredits Portal or app.
func (c *Client) Refund(ctx context.Context, id string, _ paykit.Money, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpRefund, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("refund", "eCredits refunds are made in the Portal or the app")
}

// Cancel is not supported: an unpaid request simply expires.
func (c *Client) Cancel(ctx context.Context, id string, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCancel, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("cancel", "an unpaid eCredits request expires by itself")
}

// ParseNotification verifies an eCredits webhook (a POST with a JSON body) and parses it.
// Event is the status's name (Pending, Settled, Expired), as the body claims it.
// Notification.PaymentID is the request id in its canonical form, lower case: the signature
// covers the lower-cased id, so every case variant of it verifies, and all of them are one
// payment.
//
// Without a Config.WebhookSecret every notification is refused with
// paykit.ErrInvalidSignature (the handler answers 401), and the error says the secret is not
// configured: an empty key would verify signatures anyone can make.
//
// eCredits signs only the request id, so nothing else in the body is trusted: Status is left
// empty and DedupKey too, which makes paykit.NewWebhookHandler fetch the request and key the
// notification on its fetched state. A replayed webhook with another status or transaction
// hash cannot run the merchant's function again, and a Pending webhook arriving after the
// payment runs it once for the paid state. The body is read up to the handler's
// WithMaxBodyBytes limit (paykit.DefaultMaxBodyBytes when called directly).
func (c *Client) ParseNotification(r *http.Request) (n *paykit.Notification, err error) {
	const op = "parse notification"
	r, done := c.hooks.StartNotification(r, ProviderName)
	defer func() { done.Notification(n, err) }()
	if c.webhook == nil {
		return nil, errNoWebhookSecret(op)
	}
	if r.Method != http.MethodPost {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "method %s: eCredits webhooks are POSTs", r.Method)
	}
	body, err := paykit.ReadNotificationBody(r)
	if err != nil {
		return nil, perr.WithOp(err, op)
	}
	ev, err := c.VerifyWebhook(body)
	if err != nil {
		return nil, err
	}
	return &paykit.Notification{
		Provider:  ProviderName,
		PaymentID: canonicalID(ev.RequestID),
		Event:     ev.Status.String(),
	}, nil
}

// NewID returns a new payment id eCredits takes (NewID): the Router generates ids through it
// (paykit.IDMaker).
func (c *Client) NewID() string { return NewID() }

// CheckID returns an error matching paykit.ErrInvalidRequest when id is no GUID, so the Router
// never hands eCredits an id it cannot hold (paykit.IDChecker).
func (c *Client) CheckID(id string) error { return checkID("check id", id) }

var _ paykit.IDMaker = (*Client)(nil)
var _ paykit.IDChecker = (*Client)(nil)
