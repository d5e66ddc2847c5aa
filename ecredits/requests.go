package ecredits

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/transport"
	"github.com/paykit/paykit/internal/wiremoney"
)

// QRCodeType chooses how the QR code comes back.
type QRCodeType string

// The QR code types.
const (
	QRCodeBasic        QRCodeType = "Basic"        // the base64 image only (the default)
	QRCodeHTMLEmbedded QRCodeType = "HtmlEmbedded" // also an HTML element with styles and text
)

// CreateRequestParams is a new transaction request.
type CreateRequestParams struct {
	// ID is the request's GUID, chosen by the merchant; it is the idempotency key.
	ID string
	// Amount is what the shop wants to receive, in ECS or EUR (converted to ECS by eCredits).
	Amount           paykit.Money
	PaymentReference string
	GenerateQRCode   bool
	QRCodeType       QRCodeType // empty: the API's default, Basic
	// TestMode overrides Config.TestMode for this request when set.
	TestMode *bool
}

// Request is a transaction request as eCredits returns it.
type Request struct {
	ID string
	// AmountDue is what the customer pays, always in ECS.
	AmountDue paykit.Money
	// FiatAmountDue is the amount asked in EUR, when the request was made in EUR.
	FiatAmountDue    *paykit.Money
	PaymentReference string
	QRCodeBase64     string // the QR image, when asked for
	QRCodeHTML       string // the QR code as HTML, with QRCodeHTMLEmbedded
	QRCodeString     string // the text the QR code encodes ("eCreditsPayment:<id>")
	Href             string // universal link that opens the wallet app on the same device
	ExpiresAt        time.Time
}

// Asked returns the amount in the currency the request was made in: FiatAmountDue for EUR,
// else AmountDue.
func (r *Request) Asked() paykit.Money {
	if r.FiatAmountDue != nil {
		return *r.FiatAmountDue
	}
	return r.AmountDue
}

// wireRequest is the JSON of a request; decimals stay json.Number so that they are read
// exactly, never through float64.
type wireRequest struct {
	ID               string      `json:"id"`
	FiatCurrencyCode *string     `json:"fiatCurrencyCode"`
	FiatAmountDue    json.Number `json:"fiatAmountDue"`
	AmountDue        json.Number `json:"amountDue"`
	CurrencyCode     string      `json:"currencyCode"`
	QRCodeBase64     *string     `json:"qrCodeBase64"`
	QRCodeHTML       *string     `json:"qrCodeHtml"`
	QRCodeString     string      `json:"qrCodeString"`
	Href             string      `json:"href"`
	PaymentReference *string     `json:"paymentReference"`
	ExpiresAt        string      `json:"expiresAt"`
}

func (w *wireRequest) decode(op string) (*Request, error) {
	currency := w.CurrencyCode
	if currency == "" {
		currency = CurrencyECS
	}
	amount, err := wiremoney.Read(perr, op, "amountDue", w.AmountDue.String(), currency)
	if err != nil {
		return nil, err
	}
	r := &Request{
		ID:               w.ID,
		AmountDue:        amount,
		PaymentReference: deref(w.PaymentReference),
		QRCodeBase64:     deref(w.QRCodeBase64),
		QRCodeHTML:       deref(w.QRCodeHTML),
		QRCodeString:     w.QRCodeString,
		Href:             w.Href,
	}
	if fc := deref(w.FiatCurrencyCode); fc != "" && w.FiatAmountDue != "" {
		fiat, err := wiremoney.Read(perr, op, "fiatAmountDue", w.FiatAmountDue.String(), fc)
		if err != nil {
			return nil, err
		}
		r.FiatAmountDue = &fiat
	}
	if w.ExpiresAt != "" {
		if r.ExpiresAt, err = time.Parse(time.RFC3339Nano, w.ExpiresAt); err != nil {
			return nil, perr.Wrap(op, paykit.ErrUnavailable, err, "the answer's expiresAt is not valid")
		}
	}
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The currencies eCredits takes.
const (
	CurrencyECS = "ECS"
	CurrencyEUR = "EUR"
)

var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// IsGUID reports whether id has the form eCredits takes for a request id:
// 8-4-4-4-12 hex digits, either case.
func IsGUID(id string) bool { return guidPattern.MatchString(id) }

// checkID applies paykit's id rule (internal/ids.Check: not empty, not a dot-segment, no
// control characters, at most 64 bytes) and then eCredits' own, a GUID, to an id that goes
// into a request's path or body. A refusal matches paykit.ErrInvalidRequest and nothing is
// sent.
func checkID(op, id string) error {
	if err := ids.Check(id); err != nil {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	if !IsGUID(id) {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "id %q is not a GUID", id)
	}
	return nil
}

// canonicalID returns the canonical spelling of a request id: lower case. eCredits compares
// ids ignoring case, and its webhook signature covers the lower-cased id, so "70DF7B42-…" and
// "70df7b42-…" are one request; paykit hands ids back (Payment.ID, Notification.PaymentID)
// in this form, so that one payment has one id in the merchant's records and dedupe keys.
func canonicalID(id string) string { return strings.ToLower(id) }

func (p *CreateRequestParams) validate(op string) error {
	if err := checkID(op, p.ID); err != nil {
		return err
	}
	if p.Amount.Currency != CurrencyECS && p.Amount.Currency != CurrencyEUR {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "currency %q is not supported: eCredits takes ECS or EUR", p.Amount.Currency)
	}
	if p.Amount.Amount <= 0 {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "amount must be positive, got %d", p.Amount.Amount)
	}
	switch p.QRCodeType {
	case "", QRCodeBasic, QRCodeHTMLEmbedded:
	default:
		return perr.Errorf(op, paykit.ErrInvalidRequest, "unknown QR code type %q", p.QRCodeType)
	}
	return nil
}

// CreateRequest creates a transaction request (POST /api/v1/requests). The id makes it safe
// to repeat: when eCredits answers 409 because an earlier attempt created it already, the
// existing request is fetched and returned, provided it asks for the same amount (otherwise
// the error matches both paykit.ErrAmountMismatch and paykit.ErrConflict).
func (c *Client) CreateRequest(ctx context.Context, p CreateRequestParams) (*Request, error) {
	r, _, err := c.createRequest(ctx, "create request", p)
	return r, err
}

// createRequest is CreateRequest, also saying whether the request existed before the call
// (resolved from a 409), and naming errors after op.
func (c *Client) createRequest(ctx context.Context, op string, p CreateRequestParams) (r *Request, existed bool, err error) {
	if err := p.validate(op); err != nil {
		return nil, false, err
	}
	decimal, err := p.Amount.Decimal()
	if err != nil {
		return nil, false, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	testMode := c.cfg.TestMode
	if p.TestMode != nil {
		testMode = *p.TestMode
	}
	body := struct {
		ID               string      `json:"id"`
		AmountDue        json.Number `json:"amountDue"`
		CurrencyCode     string      `json:"currencyCode"`
		PaymentReference string      `json:"paymentReference,omitempty"`
		GenerateQRCode   bool        `json:"generateQrCode"`
		QRCodeType       QRCodeType  `json:"qrCodeType,omitempty"`
		TestMode         bool        `json:"testMode"`
	}{p.ID, json.Number(decimal), p.Amount.Currency, p.PaymentReference, p.GenerateQRCode, p.QRCodeType, testMode}

	var w wireRequest
	_, err = c.http.Do(ctx, transport.Request{
		Op:          op,
		PaymentID:   p.ID,
		Method:      "POST",
		Path:        "/api/v1/requests",
		URLTemplate: "/api/v1/requests",
		Body:        body,
		Result:      &w,
		Repeatable:  true, // keyed by id: a repeat answers 409, resolved below
	})
	switch {
	case errors.Is(err, paykit.ErrConflict):
		existing, gerr := c.GetRequest(ctx, p.ID, &GetRequestOptions{GenerateQRCode: p.GenerateQRCode, QRCodeType: p.QRCodeType})
		if gerr != nil {
			return nil, false, gerr
		}
		if existing.Asked() != p.Amount {
			return nil, false, &paykit.Error{Provider: ProviderName, Op: op, Kind: paykit.ErrAmountMismatch, StatusCode: 409,
				Message: "request " + p.ID + " exists already for " + existing.Asked().String() + ", not " + p.Amount.String(), Err: err}
		}
		return existing, true, nil
	case err != nil:
		return nil, false, err
	}
	if r, err = w.decode(op); err != nil {
		return nil, false, err
	}
	if r.Asked() != p.Amount {
		return nil, false, perr.Errorf(op, paykit.ErrAmountMismatch, "asked %s, eCredits answered %s", p.Amount, r.Asked())
	}
	return r, false, nil
}

// GetRequestOptions are the QR parameters of GetRequest.
type GetRequestOptions struct {
	GenerateQRCode bool
	QRCodeType     QRCodeType
}

// GetRequest fetches a transaction request (GET /api/v1/requests/{id}).
func (c *Client) GetRequest(ctx context.Context, id string, opts *GetRequestOptions) (*Request, error) {
	const op = "get request"
	if err := checkID(op, id); err != nil {
		return nil, err
	}
	var q url.Values
	if opts != nil && (opts.GenerateQRCode || opts.QRCodeType != "") {
		q = url.Values{}
		if opts.GenerateQRCode {
			q.Set("generateQrCode", "true")
		}
		if opts.QRCodeType != "" {
			q.Set("qrCodeType", string(opts.QRCodeType))
		}
	}
	var w wireRequest
	_, err := c.http.Do(ctx, transport.Request{Op: op, PaymentID: id, Method: "GET", Path: requestPath(id), URLTemplate: "/api/v1/requests/{id}", Query: q, Result: &w, Repeatable: true})
	if err != nil {
		return nil, err
	}
	return w.decode(op)
}

// Payments lists the hashes of the transactions that paid the request (GET
// /api/v1/requests/{id}/payments). Usually one; a customer who paid twice by mistake makes
// two, and the merchant refunds the second in the eCredits Portal or app.
func (c *Client) Payments(ctx context.Context, id string) ([]string, error) {
	const op = "list payments"
	if err := checkID(op, id); err != nil {
		return nil, err
	}
	var hashes []string
	_, err := c.http.Do(ctx, transport.Request{Op: op, PaymentID: id, Method: "GET", Path: requestPath(id) + "/payments", URLTemplate: "/api/v1/requests/{id}/payments", Result: &hashes, Repeatable: true})
	if err != nil {
		return nil, err
	}
	return hashes, nil
}

// Paid reports whether at least one transaction has paid the request (GET
// /api/v1/requests/{id}/paid).
func (c *Client) Paid(ctx context.Context, id string) (bool, error) {
	const op = "check paid"
	if err := checkID(op, id); err != nil {
		return false, err
	}
	var paid bool
	_, err := c.http.Do(ctx, transport.Request{Op: op, PaymentID: id, Method: "GET", Path: requestPath(id) + "/paid", URLTemplate: "/api/v1/requests/{id}/paid", Result: &paid, Repeatable: true})
	return paid, err
}

func requestPath(id string) string { return "/api/v1/requests/" + url.PathEscape(id) }

// WaitOptions bound WaitPaid's polling.
type WaitOptions struct {
	MinInterval time.Duration // first wait between polls; 0: 1 s
	MaxInterval time.Duration // the wait doubles up to this; 0: 15 s
}

// WaitPaid polls until the request is paid (RequestSettled), has expired (RequestExpired), or
// ctx ends (ctx's error). The wait between polls doubles from MinInterval to MaxInterval and
// never runs past the request's expiry, when one last check decides. Prefer webhooks where
// the merchant can receive them: polling is the fallback the document describes.
func (c *Client) WaitPaid(ctx context.Context, id string, opts *WaitOptions) (RequestStatus, error) {
	minI, maxI := time.Second, 15*time.Second
	if opts != nil && opts.MinInterval > 0 {
		minI = opts.MinInterval
	}
	if opts != nil && opts.MaxInterval > 0 {
		maxI = opts.MaxInterval
	}
	maxI = max(maxI, minI)
	req, err := c.GetRequest(ctx, id, nil)
	if err != nil {
		return RequestPending, err
	}
	wait := minI
	for {
		paid, err := c.Paid(ctx, id)
		if err != nil {
			return RequestPending, err
		}
		t := now()
		if s := statusOf(paid, req.ExpiresAt, t); s != RequestPending {
			return s, nil
		}
		d := wait
		if !req.ExpiresAt.IsZero() {
			// Wake at the expiry at the latest, to give the final answer without delay.
			d = min(d, req.ExpiresAt.Sub(t)+time.Millisecond)
		}
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return RequestPending, ctx.Err()
		case <-timer.C:
		}
		wait = min(wait*2, maxI)
	}
}
