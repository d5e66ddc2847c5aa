package echelon

import (
	"context"
	"errors"
	"net/http"

	"github.com/paykit/paykit"
)

// ProviderName is the name in Payment.Provider and Notification.Provider.
const ProviderName = "echelon"

var _ paykit.Provider = (*Client)(nil)

// Name returns "echelon".
func (c *Client) Name() string { return ProviderName }

// Capabilities: EchelonPay takes payins, sends callbacks and makes payouts (through the native
// API); it has no capture, refund or cancel.
func (c *Client) Capabilities() paykit.Capabilities {
	return paykit.Capabilities{Webhooks: true, Payouts: true}
}

// CreatePayment starts a payin for req.
//
// With Config.PaymentMethod set it creates the payin directly (CreatePayin with that method
// and Config.PaymentOperator, req.NotifyURL as callbackUrl, req.ReturnURL as returnUrl): the
// payment is pending, ProviderID is the idPayin, and Action says what the customer does next:
// an ActionRedirect to the operator's page when EchelonPay answers a redirectUrl, otherwise an
// ActionBankTransfer whose Transfer holds the account to pay into (bank, branch, account
// number), the reference to quote, the amount to transfer and the expiry
// (paymentMethodResponse's account, reference, money and expireAt).
//
// With Config.PaymentMethod empty it makes no payin: it returns a pending payment whose
// Action is an ActionClientToken holding a PAYIN_CREATE token limited to req.ID and
// req.Amount, valid for DefaultTokenValidity (Payment.ExpiresAt), for EchelonPay's payment
// web app, which lets the customer choose a method and creates the payin. Until then this
// Client's GetPayment answers the same pending payment (see GetPayment); another Client, or
// another replica, answers ErrNotFound. The web app sends the payin's callbacks where the web
// app is told to; req.NotifyURL cannot travel in the token.
//
// Payment.Reference is the payment id, in both flows and on every call (CreatePayment,
// GetPayment, notifications): EchelonPay keeps no merchant reference with a payin, so
// req.Reference is not sent and does not come back.
//
// Repeating CreatePayment with the id of a payin that exists returns its current state and
// never a new way to pay it: a paid payin comes back succeeded with no Action, and no token
// is minted for it. A payin with that id for another amount is paykit.ErrAmountMismatch.
// Concurrent calls with one id on one Client run one after the other; across clients and
// processes EchelonPay keeps one payin per id (a repeated create answers 409, and the
// existing payin comes back). In the web-app flow each call that finds no payin yet mints a
// token of its own; every such token is limited to the one id, so at most one payin is ever
// created with them. Every error carries the payment id in paykit.Error.PaymentID.
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
	if err := checkID(op, req.ID); err != nil {
		return nil, err
	}
	// One create of the payin at a time in this client: the web-app flow reads, then mints a
	// token, and the direct flow creates, then resolves a 409.
	unlock, err := c.lockID(ctx, "payins", req.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if c.cfg.PaymentMethod != "" {
		p, _, err := c.createPayin(ctx, op, PayinRequest{
			ID: req.ID, Amount: req.Amount, Method: c.cfg.PaymentMethod, Operator: c.cfg.PaymentOperator,
			CallbackURL: req.NotifyURL, ReturnURL: req.ReturnURL,
		})
		if err != nil {
			return nil, err
		}
		return paymentOf(p), nil
	}

	// The web-app flow. The payin may exist already: the web app created it after an
	// earlier call, and the customer may have paid. Its state comes back, never a new token.
	existing, err := c.GetPayin(ctx, req.ID)
	switch {
	case err == nil:
		c.webApp.forget(req.ID)
		if existing.Amount != req.Amount {
			return nil, conflictMismatch(op, "payin", req.ID, req.Amount, existing.Amount)
		}
		return paymentOf(existing), nil
	case !errors.Is(err, paykit.ErrNotFound):
		return nil, perr.WithOp(err, op)
	}
	amount := req.Amount
	tok, err := c.newToken(ctx, op, TokenRequest{Action: TokenPayinCreate, PaymentID: req.ID, Amount: &amount})
	if err != nil {
		return nil, err
	}
	zero := paykit.Money{Currency: req.Amount.Currency}
	pay := &paykit.Payment{
		Provider:  ProviderName,
		ID:        req.ID,
		Reference: req.ID,
		Amount:    req.Amount,
		Captured:  zero,
		Refunded:  zero,
		Status:    paykit.StatusPending,
		Action:    &paykit.Action{Type: paykit.ActionClientToken, Token: tok.Value},
		ExpiresAt: tok.ExpiresAt,
	}
	c.webApp.put(pay)
	return pay, nil
}

// GetPayment fetches the payin with the merchant's id (GET /payins/{id}) and returns it as a
// paykit.Payment: Reference is the id, and a pending payin has the Action CreatePayment
// describes (a redirect or the transfer details); a final one has none.
//
// In the web-app flow there is no payin until the web app creates it. Until then GetPayment
// of a payment this Client created answers it as CreatePayment did: pending, no ProviderID,
// with the ActionClientToken and its ExpiresAt, so that an order page works right after
// checkout. The Client remembers such a payment in process memory, bounded (4,096 payments,
// the most one merchant's 10 requests per second can create in a token's life, the oldest
// forgotten first), until EchelonPay has the payin or the token expires; after the token's
// expiry, with no payin, GetPayment answers paykit.ErrNotFound, and a new CreatePayment with
// the id mints a new token. A Client that did not create the payment (another replica, a
// restarted process) answers paykit.ErrNotFound until the web app creates the payin: treat
// ErrNotFound for an id the merchant's own store knows as "not started yet".
func (c *Client) GetPayment(ctx context.Context, id string) (pay *paykit.Payment, err error) {
	ctx, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpGetPayment, id)
	defer func() { done.Payment(pay, err) }()
	p, err := c.GetPayin(ctx, id)
	if errors.Is(err, paykit.ErrNotFound) {
		if pay, ok := c.webApp.get(id); ok {
			return pay, nil
		}
	}
	if err != nil {
		return nil, err
	}
	c.webApp.forget(id)
	return paymentOf(p), nil
}

// paymentOf maps a payin to paykit's Payment. A succeeded payin has captured its amount;
// only a pending one offers a way to pay: a redirect when EchelonPay gave one, otherwise the
// transfer details when it gave an account or a reference. Reference is the id: EchelonPay
// keeps no merchant reference.
func paymentOf(p *Payin) *paykit.Payment {
	zero := paykit.Money{Currency: p.Amount.Currency}
	pay := &paykit.Payment{
		Provider:       ProviderName,
		ID:             p.ID,
		ProviderID:     p.ID,
		Reference:      p.ID,
		Amount:         p.Amount,
		Captured:       zero,
		Refunded:       zero,
		Status:         p.Status,
		ProviderStatus: p.ProviderStatus,
		CreatedAt:      p.CreatedAt,
		ExpiresAt:      p.ExpiresAt,
	}
	switch {
	case p.Status == paykit.StatusSucceeded:
		pay.Captured = p.Amount
	case p.Status == paykit.StatusPending && p.RedirectURL != "":
		pay.Action = &paykit.Action{Type: paykit.ActionRedirect, URL: p.RedirectURL}
	case p.Status == paykit.StatusPending && (p.Account.AccountNumber != "" || p.Reference != ""):
		// A transfer to a virtual account, or at a branch quoting the reference: the
		// customer needs every detail EchelonPay gave, and the exact amount it asks.
		amount := p.PayAmount
		if amount.Currency == "" {
			amount = p.Amount
		}
		pay.Action = &paykit.Action{Type: paykit.ActionBankTransfer, Transfer: &paykit.BankTransfer{
			BankName:      p.Account.BankName,
			BranchName:    p.Account.BranchName,
			AccountNumber: p.Account.AccountNumber,
			Reference:     p.Reference,
			Amount:        amount,
			ExpiresAt:     p.ExpiresAt,
		}}
	}
	return pay
}

// Capture is not supported: a payin is settled when the customer pays.
func (c *Client) Capture(ctx context.Context, id string, _ paykit.Money, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCapture, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("capture", "an EchelonPay payin is settled when the customer pays")
}

// Refund is not supported: EchelonPay has no refund of a payin; send the money back with
// CreatePayout.
func (c *Client) Refund(ctx context.Context, id string, _ paykit.Money, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpRefund, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("refund", "EchelonPay has no refunds; send the money back with CreatePayout")
}

// Cancel is not supported: an unpaid payin expires by itself.
func (c *Client) Cancel(ctx context.Context, id string, _ ...paykit.CallOption) (pay *paykit.Payment, err error) {
	_, done := c.hooks.StartOperation(ctx, ProviderName, paykit.OpCancel, id)
	defer func() { done.Payment(pay, err) }()
	return nil, perr.Unsupported("cancel", "an unpaid EchelonPay payin expires by itself")
}

// ParseNotification reads an EchelonPay payin callback: a POST whose JSON body names the
// payin ("idPayin"; unknown fields are ignored, and so is a body that is not JSON at all).
// The callback is anemic and unsigned, so nothing in it is trusted: the notification has no
// Status and no DedupKey, and paykit.NewWebhookHandler fetches the payin and keys the
// notification on its fetched state.
//
// With Config.NotifySecret set, the callback's URL must carry the paykit signature that
// CreatePayment and CreatePayin added: a callback without a valid one, or whose body names
// another payin than the signed id, is paykit.ErrInvalidSignature (the handler answers 401)
// and nothing is fetched. A body that names no payin then takes the signed id. Without
// NotifySecret a callback that names no payin is paykit.ErrInvalidRequest. A callback that
// names only a payout belongs to PayoutWebhookHandler: paykit.ErrInvalidRequest.
//
// The body is read up to the handler's WithMaxBodyBytes limit (paykit.DefaultMaxBodyBytes
// when called directly).
func (c *Client) ParseNotification(r *http.Request) (n *paykit.Notification, err error) {
	const op = "parse notification"
	r, done := c.hooks.StartNotification(r, ProviderName)
	defer func() { done.Notification(n, err) }()
	cb, err := c.readCallback(op, r, callbackPayin)
	if err != nil {
		return nil, err
	}
	return &paykit.Notification{Provider: ProviderName, PaymentID: cb.ID, Event: cb.Event}, nil
}

// NewID returns a new payment id EchelonPay takes (NewID; paykit.IDMaker).
func (c *Client) NewID() string { return NewID() }

// CheckID returns an error matching paykit.ErrInvalidRequest when EchelonPay cannot hold id
// (paykit.IDChecker).
func (c *Client) CheckID(id string) error { return checkID("check id", id) }

var _ paykit.IDMaker = (*Client)(nil)
var _ paykit.IDChecker = (*Client)(nil)
