package echelon

import (
	"context"
	"net/url"
	"time"

	"github.com/paykit/paykit"
)

// PayinRequest is a new payin: money the customer pays to the merchant.
type PayinRequest struct {
	// ID is the merchant's order id (idPayin), the idempotency key; NewID makes one when it
	// is empty. It must not start with '!'.
	ID     string
	Amount paykit.Money
	// Method is the paymentMethodCode (e.g. "VAPAY"), Operator the paymentOperatorCode
	// (optional), as PaymentOptions lists them.
	Method, Operator string
	// CallbackURL receives EchelonPay's callbacks about the payin; signed by the client when
	// Config.NotifySecret is set. ReturnURL is where the customer goes back to.
	CallbackURL, ReturnURL string
}

// Account is a bank account in a payin (where the customer transfers to) or a payout (where
// the money goes).
type Account struct {
	BankName      string `json:"bankName,omitempty"`
	BranchName    string `json:"branchName,omitempty"`
	AccountName   string `json:"accountName,omitempty"`
	AccountNumber string `json:"accountNumber,omitempty"`
}

// Payin is a payin as EchelonPay answers it (GET /payins/{id}).
type Payin struct {
	ID     string       // idPayin, the merchant's id
	Amount paykit.Money // paymentRequested.money
	// PayAmount is paymentMethodResponse.money, what the method asks the customer to pay,
	// when answered.
	PayAmount      paykit.Money
	Fee            paykit.Money // zero when not answered
	Status         paykit.Status
	ProviderStatus string // process.status as EchelonPay wrote it
	Test           bool   // process.isTest
	Method         string // paymentMethodCode
	Operator       string // paymentOperatorCode
	// Account and Reference are the transfer details of methods the customer pays by bank
	// transfer (a virtual account and the reference to quote).
	Account   Account
	Reference string
	// RedirectURL, when not empty, is the operator's page where the customer pays
	// (ASSUMPTION: the document shows no such method's answer).
	RedirectURL, ReturnURL            string
	CreatedAt, ProcessedAt, ExpiresAt time.Time
}

func (e *envelope) payin(op, id string, created bool) (*Payin, error) {
	c, err := e.readCommon(op, created)
	if err != nil {
		return nil, err
	}
	p := &Payin{
		ID: id, Amount: c.amount, Fee: c.fee, Status: c.status, ProviderStatus: c.providerStatus, Test: c.test,
		CreatedAt: parseTime(c.createdAt), ProcessedAt: parseTime(c.processedAt),
	}
	if r := e.Response; r != nil {
		if r.IDPayin != "" && r.IDPayin != id {
			return nil, perr.Errorf(op, paykit.ErrUnavailable, "asked for payin %s, EchelonPay answered payin %s", id, r.IDPayin)
		}
		p.Method, p.Operator = r.PaymentMethodCode, r.PaymentOperatorCode
		if r.Account != nil {
			p.Account = *r.Account
		}
		p.Reference, p.RedirectURL, p.ReturnURL = r.Reference, r.RedirectURL, r.ReturnURL
		p.ExpiresAt = parseTime(r.ExpireAt)
		if r.Money != nil && (r.Money.Amount != "" || r.Money.CurrencyCode != "") {
			if p.PayAmount, err = r.Money.read(op, "paymentMethodResponse.money"); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// CreatePayin creates a payin (POST /payins/{id}). It is keyed by the id, so it is repeated
// after an ambiguous failure; when EchelonPay answers 409 because the payin exists (an
// earlier attempt whose answer was lost, or the payment web app), the existing payin is
// fetched and returned, provided it is for the same amount: otherwise the error matches
// paykit.ErrAmountMismatch (and paykit.ErrConflict). Every error carries the id in
// paykit.Error.PaymentID.
func (c *Client) CreatePayin(ctx context.Context, req PayinRequest) (*Payin, error) {
	const op = "create payin"
	if req.ID == "" {
		req.ID = NewID()
	}
	p, err := c.lockedCreatePayin(ctx, op, req)
	if err != nil {
		return nil, perr.WithPaymentID(err, op, req.ID)
	}
	return p, nil
}

func (c *Client) lockedCreatePayin(ctx context.Context, op string, req PayinRequest) (*Payin, error) {
	// The id is checked before it keys a lock.
	if err := checkID(op, req.ID); err != nil {
		return nil, err
	}
	unlock, err := c.lockID(ctx, "payins", req.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, _, err := c.createPayin(ctx, op, req)
	return p, err
}

// createPayin is CreatePayin, also saying whether the payin existed before the call.
func (c *Client) createPayin(ctx context.Context, op string, req PayinRequest) (*Payin, bool, error) {
	if err := checkID(op, req.ID); err != nil {
		return nil, false, err
	}
	if req.Method == "" {
		return nil, false, perr.Errorf(op, paykit.ErrInvalidRequest, "a payin needs a payment method")
	}
	money, err := toWire(op, req.Amount)
	if err != nil {
		return nil, false, err
	}
	callback, err := c.signCallback(op, req.CallbackURL, req.ID)
	if err != nil {
		return nil, false, err
	}
	if err := checkURL(op, "return URL", req.ReturnURL); err != nil {
		return nil, false, err
	}
	type method struct {
		PaymentMethodCode   string `json:"paymentMethodCode"`
		PaymentOperatorCode string `json:"paymentOperatorCode,omitempty"`
	}
	body := struct {
		PaymentRequested struct {
			Money *wireMoney `json:"money"`
		} `json:"paymentRequested"`
		PaymentMethod method `json:"paymentMethod"`
		CallbackURL   string `json:"callbackUrl,omitempty"`
		ReturnURL     string `json:"returnUrl,omitempty"`
	}{PaymentMethod: method{req.Method, req.Operator}, CallbackURL: callback, ReturnURL: req.ReturnURL}
	body.PaymentRequested.Money = money

	var e envelope
	existed, err := c.create(ctx, op, "payins", req.ID, body, &e)
	if err != nil {
		return nil, false, err
	}
	p, err := e.payin(op, req.ID, !existed)
	if err != nil {
		return nil, false, err
	}
	if p.Amount != req.Amount {
		if existed {
			return nil, false, conflictMismatch(op, "payin", req.ID, req.Amount, p.Amount)
		}
		return nil, false, perr.Errorf(op, paykit.ErrAmountMismatch, "asked %s, EchelonPay answered %s", req.Amount, p.Amount)
	}
	return p, existed, nil
}

// GetPayin fetches a payin (GET /payins/{id}).
func (c *Client) GetPayin(ctx context.Context, id string) (*Payin, error) {
	const op = "get payin"
	if err := checkID(op, id); err != nil {
		return nil, err
	}
	var e envelope
	if err := c.get(ctx, op, "payins", id, &e); err != nil {
		return nil, err
	}
	return e.payin(op, id, false)
}

// signCallback checks a callback URL and adds the paykit signature for id to it when
// NotifySecret is set.
func (c *Client) signCallback(op, callbackURL, id string) (string, error) {
	if err := checkURL(op, "callback URL", callbackURL); err != nil {
		return "", err
	}
	signed, err := c.signer.Sign(callbackURL, id)
	if err != nil {
		return "", perr.Errorf(op, paykit.ErrInvalidRequest, "the callback URL is not a valid URL")
	}
	return signed, nil
}

// checkURL refuses a URL EchelonPay could not call or send a customer to: it must be empty or
// an absolute http(s) URL. The URL itself is not quoted: it may hold the merchant's own
// tokens.
func checkURL(op, what, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "the %s is not an absolute http(s) URL", what)
	}
	return nil
}
