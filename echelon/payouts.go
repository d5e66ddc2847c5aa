package echelon

import (
	"context"
	"time"

	"github.com/paykit/paykit"
)

// PayoutRequest is a new payout: money the merchant sends to a customer's account.
type PayoutRequest struct {
	// ID is the merchant's id (idPayout), the idempotency key; NewID makes one when it is
	// empty. It must not start with '!'.
	ID     string
	Amount paykit.Money
	// Method is the paymentMethodCode (e.g. "BANK_TRANSFER"), Operator the
	// paymentOperatorCode (e.g. the bank).
	Method, Operator string
	// AccountName and AccountNumber name the receiving account; Email is the receiver's.
	AccountName, AccountNumber, Email string
	// CallbackURL receives EchelonPay's callbacks about the payout (mount
	// PayoutWebhookHandler there); signed by the client when Config.NotifySecret is set.
	CallbackURL string
}

// Payout is a payout as EchelonPay answers it (GET /payouts/{id}).
type Payout struct {
	ID             string
	Amount, Fee    paykit.Money // Fee is zero when not answered
	Status         paykit.Status
	ProviderStatus string // process.status as EchelonPay wrote it
	CreatedAt      time.Time
	ProcessedAt    time.Time
}

func (e *envelope) payout(op, id string, created bool) (*Payout, error) {
	c, err := e.readCommon(op, created)
	if err != nil {
		return nil, err
	}
	if r := e.Response; r != nil && r.IDPayout != "" && r.IDPayout != id {
		return nil, perr.Errorf(op, paykit.ErrUnavailable, "asked for payout %s, EchelonPay answered payout %s", id, r.IDPayout)
	}
	return &Payout{
		ID: id, Amount: c.amount, Fee: c.fee, Status: c.status, ProviderStatus: c.providerStatus,
		CreatedAt: parseTime(c.createdAt), ProcessedAt: parseTime(c.processedAt),
	}, nil
}

// CreatePayout creates a payout (POST /payouts/{id}). Like CreatePayin it is keyed by the id:
// repeated after an ambiguous failure, a 409 resolved by fetching the existing payout, which
// must be for the same amount (otherwise paykit.ErrAmountMismatch). A payout whose creation
// answer says nothing of its state is pending. Every error carries the id in
// paykit.Error.PaymentID.
func (c *Client) CreatePayout(ctx context.Context, req PayoutRequest) (*Payout, error) {
	const op = "create payout"
	if req.ID == "" {
		req.ID = NewID()
	}
	p, err := c.createPayout(ctx, op, req)
	if err != nil {
		return nil, perr.WithPaymentID(err, op, req.ID)
	}
	return p, nil
}

func (c *Client) createPayout(ctx context.Context, op string, req PayoutRequest) (*Payout, error) {
	if err := checkID(op, req.ID); err != nil {
		return nil, err
	}
	// One create of the payout at a time in this client.
	unlock, err := c.lockID(ctx, "payouts", req.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if req.Method == "" {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "a payout needs a payment method")
	}
	money, err := toWire(op, req.Amount)
	if err != nil {
		return nil, err
	}
	callback, err := c.signCallback(op, req.CallbackURL, req.ID)
	if err != nil {
		return nil, err
	}
	type method struct {
		PaymentMethodCode   string   `json:"paymentMethodCode"`
		PaymentOperatorCode string   `json:"paymentOperatorCode,omitempty"`
		Account             *Account `json:"account,omitempty"`
		EmailAddress        string   `json:"emailAddress,omitempty"`
	}
	m := method{PaymentMethodCode: req.Method, PaymentOperatorCode: req.Operator, EmailAddress: req.Email}
	if req.AccountName != "" || req.AccountNumber != "" {
		m.Account = &Account{AccountName: req.AccountName, AccountNumber: req.AccountNumber}
	}
	body := struct {
		PaymentRequested struct {
			Money *wireMoney `json:"money"`
		} `json:"paymentRequested"`
		PaymentMethod method `json:"paymentMethod"`
		CallbackURL   string `json:"callbackUrl,omitempty"`
	}{PaymentMethod: m, CallbackURL: callback}
	body.PaymentRequested.Money = money

	var e envelope
	existed, err := c.create(ctx, op, "payouts", req.ID, body, &e)
	if err != nil {
		return nil, err
	}
	p, err := e.payout(op, req.ID, !existed)
	if err != nil {
		return nil, err
	}
	if p.Amount != req.Amount {
		if existed {
			return nil, conflictMismatch(op, "payout", req.ID, req.Amount, p.Amount)
		}
		return nil, perr.Errorf(op, paykit.ErrAmountMismatch, "asked %s, EchelonPay answered %s", req.Amount, p.Amount)
	}
	return p, nil
}

// GetPayout fetches a payout (GET /payouts/{id}).
func (c *Client) GetPayout(ctx context.Context, id string) (*Payout, error) {
	const op = "get payout"
	if err := checkID(op, id); err != nil {
		return nil, err
	}
	var e envelope
	if err := c.get(ctx, op, "payouts", id, &e); err != nil {
		return nil, err
	}
	return e.payout(op, id, false)
}
