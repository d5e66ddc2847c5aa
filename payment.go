package paykit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Money is an amount in the minor units of its currency: 99.99 EUR is
// Money{Amount: 9999, Currency: "EUR"}. Money is never converted through float64; Decimal and
// ParseMoney convert exactly.
//
// In JSON, Money is {"amount": 9999, "currency": "EUR"}: the amount stays an integer of minor
// units, so a front-end formats it with the currency's exponent (CurrencyExponent) and never
// rounds a float.
type Money struct {
	Amount   int64  `json:"amount"`   // minor units of Currency
	Currency string `json:"currency"` // ISO 4217 code, or ECS (eCredits) or EC (Entrecard credits)
}

// String formats m as "99.99 EUR"; an unknown currency prints its minor units.
func (m Money) String() string {
	d, err := m.Decimal()
	if err != nil {
		return strconv.FormatInt(m.Amount, 10) + " " + m.Currency + " (minor units)"
	}
	return d + " " + m.Currency
}

// IsZero reports whether m is the zero Money (no amount, no currency).
func (m Money) IsZero() bool { return m == Money{} }

// Decimal returns m.Amount in major units as an exact decimal string with exactly as many
// fraction digits as the currency has: Money{Amount: 9999, Currency: "EUR"} is "99.99",
// Money{Amount: 5, Currency: "JPY"} is "5".
func (m Money) Decimal() (string, error) {
	exp, ok := CurrencyExponent(m.Currency)
	if !ok {
		return "", fmt.Errorf("paykit: unknown currency %q", m.Currency)
	}
	neg := m.Amount < 0
	var digits string
	if neg {
		// Negate through uint64 so that math.MinInt64 does not overflow.
		digits = strconv.FormatUint(uint64(-(m.Amount+1))+1, 10)
	} else {
		digits = strconv.FormatInt(m.Amount, 10)
	}
	if exp > 0 {
		if len(digits) <= exp {
			digits = strings.Repeat("0", exp-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits, nil
}

// ParseMoney reads a decimal amount in major units ("99.99", "100", "-0.5", "1.50") exactly
// into Money. Fraction digits beyond the currency's exponent must be zeros ("99.990" is fine
// for EUR, "99.999" is an error), because Money cannot hold them. Exponent notation, a leading
// '+', spaces and empty input are errors.
func ParseMoney(decimal, currency string) (Money, error) {
	exp, ok := CurrencyExponent(currency)
	if !ok {
		return Money{}, fmt.Errorf("paykit: unknown currency %q", currency)
	}
	s := decimal
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return Money{}, fmt.Errorf("paykit: %q is not a decimal amount", decimal)
	}
	if len(frac) > exp {
		if strings.Trim(frac[exp:], "0") != "" {
			return Money{}, fmt.Errorf("paykit: %q has more than %d fraction digits for %s", decimal, exp, currency)
		}
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	var v uint64
	for _, c := range intPart + frac {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return Money{}, fmt.Errorf("paykit: %q is too large", decimal)
		}
		v = v*10 + d
	}
	if neg {
		if v > uint64(math.MaxInt64)+1 {
			return Money{}, fmt.Errorf("paykit: %q is too large", decimal)
		}
		return Money{Amount: int64(-v), Currency: currency}, nil //nolint:gosec // range checked above
	}
	if v > math.MaxInt64 {
		return Money{}, fmt.Errorf("paykit: %q is too large", decimal)
	}
	return Money{Amount: int64(v), Currency: currency}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Status is a payment's state in paykit's common vocabulary. Payment.ProviderStatus keeps the
// provider's own word; a word paykit does not know maps to StatusUnknown, never to StatusFailed.
type Status string

// The statuses a Payment can have.
const (
	StatusPending           Status = "pending"            // waiting for the customer or the provider
	StatusAuthorized        Status = "authorized"         // approved, not yet captured
	StatusPartiallyCaptured Status = "partially_captured" // part of the amount captured
	StatusSucceeded         Status = "succeeded"          // paid in full
	StatusPartiallyRefunded Status = "partially_refunded" // paid, part of it refunded
	StatusRefunded          Status = "refunded"           // paid, all of it refunded
	StatusCanceled          Status = "canceled"           // canceled or aborted before payment
	StatusFailed            Status = "failed"             // declined or failed
	StatusExpired           Status = "expired"            // not paid in time
	StatusUnknown           Status = "unknown"            // a provider status paykit does not know
)

// IsFinal reports whether no further change of s is expected without a new merchant action:
// succeeded, refunded, canceled, failed and expired. A partially refunded payment can still be
// refunded further, so it is not final; StatusUnknown is not final either.
func (s Status) IsFinal() bool {
	switch s {
	case StatusSucceeded, StatusRefunded, StatusCanceled, StatusFailed, StatusExpired:
		return true
	}
	return false
}

// Item is one line of an order.
type Item struct {
	Reference  string `json:"reference,omitempty"` // the merchant's article number (Ecster partNumber)
	Name       string `json:"name"`                // what the customer sees on the line
	Quantity   int    `json:"quantity"`
	UnitAmount Money  `json:"unit_amount"` // price of one unit, VAT included
	VATRate    int    `json:"vat_rate"`    // percent × 100: 2500 = 25 %
}

// Customer is what the merchant knows of the buyer; providers use what they take.
type Customer struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`   // international form, e.g. "+46701234567"
	Country   string `json:"country,omitempty"` // ISO 3166-1 alpha-2, e.g. "SE"
}

// PaymentRequest is what CreatePayment needs.
type PaymentRequest struct {
	// ID is the merchant's id for this payment: also the idempotency key and the id given to
	// GetPayment, Capture, Refund and Cancel. Generated in the provider's format when empty.
	ID string `json:"id,omitempty"`
	// Reference is the merchant's order reference shown in reports (defaults to ID).
	Reference string `json:"reference,omitempty"`
	// Amount is what the customer pays, in minor units.
	Amount Money `json:"amount"`
	// Description is the short text the provider shows the customer, where it shows one.
	Description string `json:"description,omitempty"`
	// Items are line items where the provider takes them. When given, the sum of
	// Quantity × UnitAmount must equal Amount.
	Items []Item `json:"items,omitempty"`
	// Customer is what the merchant knows of the buyer, or nil.
	Customer *Customer `json:"customer,omitempty"`
	// ReturnURL is where the customer's browser goes after paying.
	ReturnURL string `json:"return_url,omitempty"`
	// CancelURL is where the customer's browser goes after giving up.
	CancelURL string `json:"cancel_url,omitempty"`
	// NotifyURL is where the provider sends notifications, for providers that take one per
	// payment (mount NewWebhookHandler there).
	NotifyURL string `json:"notify_url,omitempty"`
	// Locale is an IETF tag, e.g. "sv-SE", for providers that localize their pages.
	Locale string `json:"locale,omitempty"`
}

// Validate checks what every provider needs of a request: a positive amount in a known
// currency, items that add up to it, and absolute http(s) URLs. Provider packages add their
// own rules. The error matches ErrInvalidRequest.
func (r PaymentRequest) Validate() error {
	if _, ok := CurrencyExponent(r.Amount.Currency); !ok {
		return invalid("amount: unknown currency %q", r.Amount.Currency)
	}
	if r.Amount.Amount <= 0 {
		return invalid("amount must be positive, got %d", r.Amount.Amount)
	}
	if len(r.Items) > 0 {
		var sum int64
		for i, it := range r.Items {
			if it.Quantity < 1 {
				return invalid("items[%d]: quantity must be at least 1, got %d", i, it.Quantity)
			}
			if it.UnitAmount.Currency != r.Amount.Currency {
				return invalid("items[%d]: currency %q differs from the amount's %q", i, it.UnitAmount.Currency, r.Amount.Currency)
			}
			if it.UnitAmount.Amount < 0 {
				return invalid("items[%d]: unit amount must not be negative", i)
			}
			line := it.UnitAmount.Amount * int64(it.Quantity)
			if it.UnitAmount.Amount != 0 && line/it.UnitAmount.Amount != int64(it.Quantity) {
				return invalid("items[%d]: quantity × unit amount overflows", i)
			}
			sum += line
			if sum < 0 {
				return invalid("items: sum overflows")
			}
		}
		if sum != r.Amount.Amount {
			return invalid("items add up to %d, amount is %d", sum, r.Amount.Amount)
		}
	}
	for _, u := range []struct{ name, v string }{{"ReturnURL", r.ReturnURL}, {"CancelURL", r.CancelURL}, {"NotifyURL", r.NotifyURL}} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			// The URL itself stays out of the message: notify URLs often carry a token.
			return invalid("%s must be an absolute http(s) URL", u.name)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return &Error{Op: "validate request", Kind: ErrInvalidRequest, Message: fmt.Sprintf(format, args...), Unprocessed: true}
}

// ActionType says what kind of next step an Action is.
type ActionType string

// The kinds of Action.
const (
	ActionRedirect    ActionType = "redirect"     // send the customer to URL
	ActionQRCode      ActionType = "qr_code"      // show QRCode; URL opens the wallet on the same device
	ActionClientToken ActionType = "client_token" // hand Token to the provider's front-end script
	// ActionBankTransfer: the customer pays by a transfer with the details in Transfer (a
	// virtual account, a payment code to quote).
	ActionBankTransfer ActionType = "bank_transfer"
)

// BankTransfer is what a customer needs to pay by transfer: where to, how much, what to
// quote, and until when.
type BankTransfer struct {
	BankName      string    `json:"bank_name,omitempty"`
	BranchName    string    `json:"branch_name,omitempty"`
	AccountNumber string    `json:"account_number,omitempty"` // the (virtual) account to pay into
	Reference     string    `json:"reference,omitempty"`      // the payment code or reference to quote
	Amount        Money     `json:"amount"`                   // exactly what to transfer
	ExpiresAt     time.Time `json:"expires_at,omitzero"`      // the details are valid until then
}

// Action is what the customer must do next to pay. It is meant for the front-end: in JSON it
// is {"type": "redirect", "url": "…"}, {"type": "qr_code", "qr_code": "…", "url": "…"} or
// {"type": "client_token", "token": "…"}, empty fields left out.
type Action struct {
	Type   ActionType `json:"type"`
	URL    string     `json:"url,omitempty"`     // redirect target or universal link
	QRCode string     `json:"qr_code,omitempty"` // the text a QR code encodes
	Token  string     `json:"token,omitempty"`   // a cart key or a restricted token for the provider's front-end
	// Transfer holds the transfer details of an ActionBankTransfer.
	Transfer *BankTransfer `json:"transfer,omitempty"`
}

// Payment is a payment as paykit sees it, the same shape for every provider.
//
// It marshals to the JSON a merchant's own API would serve (encoding/json): snake_case names
// (provider_id, provider_status, created_at, …), Money as {"amount": <minor units>,
// "currency": "SEK"}, times in RFC 3339. What a zero value means absent is left out: no
// action when nothing is for the customer to do, no provider_id, reference or
// provider_status when empty, no captured or refunded when the zero Money, no created_at or
// expires_at when zero (omitzero, which needs Go 1.24's encoding/json). The JSON reads back
// into the same Payment.
type Payment struct {
	Provider   string `json:"provider"`              // "ecster", "echelon", "entrecard", "ecredits"
	ID         string `json:"id"`                    // the merchant's id (PaymentRequest.ID)
	ProviderID string `json:"provider_id,omitempty"` // the provider's own id where it has one
	Reference  string `json:"reference,omitempty"`   // the merchant's order reference
	Amount     Money  `json:"amount"`                // what the customer was asked to pay
	Captured   Money  `json:"captured,omitzero"`     // what has been captured (taken) so far; all of Amount once paid
	Refunded   Money  `json:"refunded,omitzero"`     // what has been refunded so far
	// Status is the payment's state in paykit's vocabulary, as the provider reported it
	// when the Payment was made.
	Status         Status    `json:"status"`
	ProviderStatus string    `json:"provider_status,omitempty"` // the provider's own status word, kept as it came
	Action         *Action   `json:"action,omitempty"`          // what the customer must do next, or nil
	CreatedAt      time.Time `json:"created_at,omitzero"`       // when the payment was created, zero when the provider does not say
	ExpiresAt      time.Time `json:"expires_at,omitzero"`       // when an unpaid payment expires, zero when it does not
}

// Capabilities says in advance which operations a provider supports; the others return an
// error that matches ErrUnsupported.
type Capabilities struct {
	Capture        bool `json:"capture"`         // Capture takes an authorized payment
	PartialCapture bool `json:"partial_capture"` // Capture takes less than what is authorized, more than once
	Refund         bool `json:"refund"`          // Refund gives a captured payment back
	PartialRefund  bool `json:"partial_refund"`  // Refund gives part of it back, more than once
	Cancel         bool `json:"cancel"`          // Cancel withdraws what is authorized and not captured
	Webhooks       bool `json:"webhooks"`        // the provider notifies; mount NewWebhookHandler
	Payouts        bool `json:"payouts"`         // the provider pays out (through its own package's API)
}

// Provider is the interface every provider client implements. Every id is the merchant's
// payment id (PaymentRequest.ID).
type Provider interface {
	// Name is the provider's name as it appears in Payment.Provider.
	Name() string
	// Capabilities says which operations the provider supports.
	Capabilities() Capabilities
	// CreatePayment creates a payment, or returns the one req.ID names as it stands: never a
	// second payment, and never a new way to pay a paid one. Errors carry the id in
	// Error.PaymentID.
	CreatePayment(ctx context.Context, req PaymentRequest) (*Payment, error)
	// GetPayment fetches the payment's current state.
	GetPayment(ctx context.Context, id string) (*Payment, error)
	// Capture takes amount of an authorized payment; the zero Money (Money{}) takes all
	// that remains, and an amount of 0 with a currency is ErrInvalidRequest (CheckAmount).
	// With IdempotencyKey the capture acts at most once for that key, from any process.
	Capture(ctx context.Context, id string, amount Money, opts ...CallOption) (*Payment, error)
	// Refund gives amount of a captured payment back; the zero Money refunds all that
	// remains (see Capture for 0 and for IdempotencyKey).
	Refund(ctx context.Context, id string, amount Money, opts ...CallOption) (*Payment, error)
	// Cancel withdraws what is authorized and not captured. With IdempotencyKey it acts at
	// most once for that key.
	Cancel(ctx context.Context, id string, opts ...CallOption) (*Payment, error)
	// ParseNotification verifies a notification the provider sent, then parses it. A bad or
	// missing signature matches ErrInvalidSignature; a malformed one ErrInvalidRequest.
	ParseNotification(r *http.Request) (*Notification, error)
}

// Notification is a provider's notification about a payment, verified where the provider
// signs it. It is a signal: NewWebhookHandler fetches the payment before trusting it.
type Notification struct {
	Provider  string `json:"provider"`   // the provider's name
	PaymentID string `json:"payment_id"` // the merchant's id
	Event     string `json:"event"`      // the provider's event or status word, as the notification claims it
	// Status is the status the notification itself claims, set only where the provider signs
	// it (Entrecard's results). It is what the provider said when it sent the notification,
	// which may be older than the truth: decide on Payment.Status, the fetched state.
	Status Status `json:"status,omitempty"`
	// DedupKey is the same for every redelivery of one event, made only of what the provider
	// signed; empty when nothing signed identifies the event (then the webhook handler keys
	// the notification on the fetched state).
	DedupKey string `json:"dedup_key,omitempty"`
	// Payment is the payment as the webhook handler fetched it with GetPayment before
	// calling fn: trust it, not the notification's own fields.
	Payment *Payment `json:"payment,omitempty"`
}
