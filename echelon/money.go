package echelon

import (
	"encoding/json"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/wiremoney"
)

// wireMoney is money as EchelonPay writes it: {"amount": <JSON number in major units>,
// "currencyCode": "INR"}. The amount stays a json.Number both ways, so it is never a float64.
type wireMoney struct {
	Amount       json.Number `json:"amount"`
	CurrencyCode string      `json:"currencyCode"`
}

// toWire writes m as an exact decimal in major units, without trailing fraction zeros as the
// document writes it: 5000 INR is 5000, 42.05 USD is 42.05, 0.01 USD is 0.01. Money that is
// not positive, or in a currency paykit does not know, is refused before anything is sent.
func toWire(op string, m paykit.Money) (*wireMoney, error) {
	if m.Amount <= 0 {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "amount must be positive, got %s", m)
	}
	d, err := m.Decimal()
	if err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "")
	}
	return &wireMoney{Amount: json.Number(trimZeros(d)), CurrencyCode: m.Currency}, nil
}

// trimZeros drops trailing zeros of a decimal's fraction, and the dot when nothing is left of
// it: the value stays exactly the same.
func trimZeros(d string) string {
	if !strings.Contains(d, ".") {
		return d
	}
	return strings.TrimSuffix(strings.TrimRight(d, "0"), ".")
}

// read reads w exactly as Money. An amount with non-zero fraction digits beyond its
// currency's (42.051 USD), or in a currency paykit does not know, cannot be an amount paykit
// asked for: paykit.ErrAmountMismatch. One that is not a decimal number is a broken answer:
// paykit.ErrUnavailable.
func (w *wireMoney) read(op, field string) (paykit.Money, error) {
	if w == nil || (w.Amount == "" && w.CurrencyCode == "") {
		return paykit.Money{}, perr.Errorf(op, paykit.ErrUnavailable, "the answer has no %s", field)
	}
	if w.CurrencyCode == "" {
		return paykit.Money{}, perr.Errorf(op, paykit.ErrUnavailable, "the answer's %s has no currencyCode", field)
	}
	return wiremoney.Read(perr, op, field, w.Amount.String(), w.CurrencyCode)
}
