package ecster

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/transport"
)

// PaymentMethodsQuery asks which payment methods Ecster offers for a purchase (GET
// /v1/paymentmethods). Every field is optional.
type PaymentMethodsQuery struct {
	Locale        string // e.g. "sv-SE", either case
	Nationality   string // ISO 3166-1 alpha-2 of the consumer, e.g. "SE"
	Currency      string // ISO 4217
	Amount        Amount // the purchase, in minor units; 0: not sent
	PaymentMethod string // limit the answer to one method, e.g. PARTPAYMENT
	InPerson      bool   // the consumer is in a shop
}

// PaymentMethods is Ecster's answer: the methods and the localized texts to show with them.
type PaymentMethods struct {
	Methods       []PaymentMethod `json:"paymentMethods"`
	LocalizedInfo []LocalizedTerm `json:"localizedInfo"`
}

// PaymentMethod is one method Ecster offers, e.g. INVOICE with the submethod INVOICE_SE_1.
type PaymentMethod struct {
	Name                  string          `json:"name"` // INVOICE, PARTPAYMENT
	Description           string          `json:"description"`
	SubMethods            Names           `json:"subMethods"`            // INVOICE_SE_1, PARTPAYMENT_SE_1
	IdentificationMethods Names           `json:"identificationMethods"` // SE_BANKID, ZIP_CODE, SE_BANKID_MOBILE
	LocalizedTerms        []LocalizedTerm `json:"localizedTerms,omitempty"`
}

// IsPartPayment reports whether m is part payment (PARTPAYMENT, or ACCOUNT in older
// integrations).
func (m PaymentMethod) IsPartPayment() bool { return IsPartPayment(m.Name) }

// TermsQuery asks for the terms of a part payment (GET /v1/paymentmethods/terms).
type TermsQuery struct {
	Locale        string // e.g. "sv-SE", either case
	Nationality   string // e.g. "SE"
	PaymentMethod string // PARTPAYMENT (the default when empty)
	Amount        Amount // the purchase, in minor units
	Currency      string
}

// Terms are a part payment's terms: the method, and the figures to show the consumer as
// localized terms (startFee, adminFee, interestRate, payments, perMonth, effectiveRate,
// creditCost, totalAmount, name, description, termsPdfUrl, secciPdfUrl).
type Terms struct {
	Method         string          `json:"method"`
	Submethod      string          `json:"submethod"`
	Nationality    string          `json:"nationality"`
	LocalizedTerms []LocalizedTerm `json:"localizedTerms"`
}

// Term returns the localized term with id (e.g. "startFee"), and whether there is one.
func (t *Terms) Term(id string) (LocalizedTerm, bool) { return findTerm(t.LocalizedTerms, id) }

// LocalizedTerm is one of Ecster's localized terms: a heading (Text), a pre-formatted value
// (Value, e.g. "395") and its unit (Unit, e.g. "kr"), identified by ID. Show them as they
// are: "Uppläggningsavgift: 395 kr".
type LocalizedTerm struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Value string `json:"value"`
	Unit  string `json:"unit,omitempty"`
}

// String formats the term as "Text: Value Unit".
func (t LocalizedTerm) String() string {
	s := t.Text + ": " + t.Value
	if t.Unit != "" {
		s += " " + t.Unit
	}
	return s
}

// The ids of localized terms named by the provider's document.
const (
	TermStartFee      = "startFee"
	TermAdminFee      = "adminFee"
	TermInterestRate  = "interestRate"
	TermPayments      = "payments"
	TermPerMonth      = "perMonth"
	TermEffectiveRate = "effectiveRate"
	TermCreditCost    = "creditCost"
	TermTotalAmount   = "totalAmount"
	TermName          = "name"
	TermDescription   = "description"
	TermTermsPDFURL   = "termsPdfUrl"
	TermSECCIPDFURL   = "secciPdfUrl"
)

func findTerm(terms []LocalizedTerm, id string) (LocalizedTerm, bool) {
	for _, t := range terms {
		if t.ID == id {
			return t, true
		}
	}
	return LocalizedTerm{}, false
}

// Names is a list of names. It is read from strings or from objects with a name (or id, or
// code): the document shows the values, not their shape.
type Names []string

// UnmarshalJSON reads a list of strings or of objects with a name, id or code.
func (l *Names) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Names, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			out = append(out, s)
			continue
		}
		var o struct{ Name, ID, Code string }
		if err := json.Unmarshal(r, &o); err != nil {
			return err
		}
		switch {
		case o.Name != "":
			out = append(out, o.Name)
		case o.ID != "":
			out = append(out, o.ID)
		default:
			out = append(out, o.Code)
		}
	}
	*l = out
	return nil
}

// queryValues validates the parameters the two queries share.
func queryValues(op, locale, nationality, currency, method string, amount Amount) (url.Values, error) {
	v := url.Values{}
	if locale != "" {
		l, err := ParseLocale(locale)
		if err != nil {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
		}
		v.Set("locale", l.String())
	}
	if nationality != "" {
		if len(nationality) != 2 || !lettersOnly(nationality) {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "nationality %q is not an ISO 3166-1 alpha-2 code", nationality)
		}
		v.Set("nationality", strings.ToUpper(nationality))
	}
	if currency != "" {
		if _, ok := paykit.CurrencyExponent(currency); !ok {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "unknown currency %q", currency)
		}
		v.Set("currency", currency)
	}
	if err := amount.Validate(); err != nil {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	if amount > 0 {
		v.Set("amount", strconv.FormatInt(int64(amount), 10))
	}
	if method != "" {
		v.Set("paymentMethod", method)
	}
	return v, nil
}

// PaymentMethods asks which payment methods Ecster offers (GET /v1/paymentmethods).
func (c *Client) PaymentMethods(ctx context.Context, q PaymentMethodsQuery) (*PaymentMethods, error) {
	const op = "payment methods"
	v, err := queryValues(op, q.Locale, q.Nationality, q.Currency, q.PaymentMethod, q.Amount)
	if err != nil {
		return nil, err
	}
	if q.InPerson {
		v.Set("inPerson", "true")
	}
	var out PaymentMethods
	if _, err := c.http.Do(ctx, transport.Request{Op: op, Method: "GET", Path: "/v1/paymentmethods", URLTemplate: "/v1/paymentmethods", Query: v, Result: &out, Repeatable: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// PartPaymentTerms asks for the terms of a part payment (GET /v1/paymentmethods/terms), with
// the localized terms to show the consumer.
func (c *Client) PartPaymentTerms(ctx context.Context, q TermsQuery) (*Terms, error) {
	const op = "part-payment terms"
	if q.PaymentMethod == "" {
		q.PaymentMethod = MethodPartPayment
	}
	v, err := queryValues(op, q.Locale, q.Nationality, q.Currency, q.PaymentMethod, q.Amount)
	if err != nil {
		return nil, err
	}
	var out Terms
	if _, err := c.http.Do(ctx, transport.Request{Op: op, Method: "GET", Path: "/v1/paymentmethods/terms", URLTemplate: "/v1/paymentmethods/terms", Query: v, Result: &out, Repeatable: true}); err != nil {
		return nil, err
	}
	return &out, nil
}
