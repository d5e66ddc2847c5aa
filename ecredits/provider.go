package ecredits

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
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
// a GUID or empty (then a lowercase dashed GUID is generated); the amount must be EUR or ECS.
// req.Reference (default req.ID) becomes the paymentReference. Items, Customer and the URLs
// are not sent: eCredits takes none of them, and its webhook URL is set in the Portal.
func (c *Client) CreatePayment(ctx context.Context, req paykit.PaymentRequest) (*paykit.Payment, error) {
	const op = "create payment"
	if err := req.Validate(); err != nil {
		return nil, withOp(err, op)
	}
	if req.ID == "" {
		req.ID = ids.UUID()
	}
	if req.Reference == "" {
		req.Reference = req.ID
	}
	r, err := c.CreateRequest(ctx, CreateRequestParams{ID: req.ID, Amount: req.Amount, PaymentReference: req.Reference})
	if err != nil {
		return nil, err
	}
	p := c.payment(r, false)
	p.ID = req.ID
	p.CreatedAt = now()
	return p, nil
}

// GetPayment fetches the request and whether it is paid: paid is succeeded; else past its
// expiry is expired; else pending, with the QR action to show again.
func (c *Client) GetPayment(ctx context.Context, id string) (*paykit.Payment, error) {
	r, err := c.GetRequest(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	paid, err := c.Paid(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.payment(r, paid), nil
}

func (c *Client) payment(r *Request, paid bool) *paykit.Payment {
	status := statusOf(paid, r.ExpiresAt, now())
	p := &paykit.Payment{
		Provider:       ProviderName,
		ID:             r.ID,
		ProviderID:     r.ID,
		Reference:      r.PaymentReference,
		Amount:         r.Asked(),
		Captured:       paykit.Money{Currency: r.Asked().Currency},
		Refunded:       paykit.Money{Currency: r.Asked().Currency},
		Status:         status.PaykitStatus(),
		ProviderStatus: status.String(),
		ExpiresAt:      r.ExpiresAt,
	}
	switch status {
	case StatusSettled:
		p.Captured = p.Amount
	case StatusPending:
		p.Action = &paykit.Action{Type: paykit.ActionQRCode, QRCode: r.QRCodeString, URL: r.Href}
	}
	return p
}

// Capture is not supported: a paid request is settled at once.
func (c *Client) Capture(context.Context, string, paykit.Money) (*paykit.Payment, error) {
	return nil, errorf("capture", paykit.ErrUnsupported, "eCredits settles payments at once")
}

// Refund is not supported by the API: refunds are made in the eCredits Portal or app.
func (c *Client) Refund(context.Context, string, paykit.Money) (*paykit.Payment, error) {
	return nil, errorf("refund", paykit.ErrUnsupported, "eCredits refunds are made in the Portal or the app")
}

// Cancel is not supported: an unpaid request simply expires.
func (c *Client) Cancel(context.Context, string) (*paykit.Payment, error) {
	return nil, errorf("cancel", paykit.ErrUnsupported, "an unpaid eCredits request expires by itself")
}

// ParseNotification verifies an eCredits webhook (a POST with a JSON body) and parses it.
// Event is the status's name (Pending, Settled, Expired); DedupKey tells a redelivery from a
// second payment of the same request.
func (c *Client) ParseNotification(r *http.Request) (*paykit.Notification, error) {
	const op = "parse notification"
	if r.Method != http.MethodPost {
		return nil, errorf(op, paykit.ErrInvalidRequest, "method %s: eCredits webhooks are POSTs", r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, paykit.DefaultMaxBodyBytes+1))
	if err != nil {
		return nil, &paykit.Error{Provider: ProviderName, Op: op, Kind: paykit.ErrInvalidRequest, Message: "reading the body", Err: err}
	}
	if len(body) > paykit.DefaultMaxBodyBytes {
		return nil, errorf(op, paykit.ErrInvalidRequest, "the body is larger than %d bytes", paykit.DefaultMaxBodyBytes)
	}
	ev, err := c.VerifyWebhook(body)
	if err != nil {
		return nil, err
	}
	return &paykit.Notification{
		Provider:  ProviderName,
		PaymentID: ev.RequestID,
		Event:     ev.Status.String(),
		Status:    ev.Status.PaykitStatus(),
		DedupKey:  strings.ToLower(ev.RequestID) + "|" + strconv.Itoa(int(ev.Status)) + "|" + ev.TransactionHash,
	}, nil
}
