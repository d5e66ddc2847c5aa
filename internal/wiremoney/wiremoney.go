// Package wiremoney reads the decimal amounts providers answer (eCredits, EchelonPay) into
// paykit.Money exactly, telling an amount that cannot be the one asked from an answer that
// is broken.
package wiremoney

import (
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/perr"
)

// Read reads decimal, an amount in major units the provider answered in field, as Money of
// currency. A well-formed amount that Money cannot hold — more non-zero fraction digits than
// the currency has (99.991 EUR), or a currency paykit does not know — cannot be an amount
// paykit asked for: that is paykit.ErrAmountMismatch (DESIGN rule 6), never a success. An
// amount that is not a decimal at all is a broken answer: paykit.ErrUnavailable.
func Read(p perr.For, op, field, decimal, currency string) (paykit.Money, error) {
	if !wellFormed(decimal) {
		return paykit.Money{}, p.Errorf(op, paykit.ErrUnavailable, "the answer's %s %q is not a decimal amount", field, decimal)
	}
	m, err := paykit.ParseMoney(decimal, currency)
	if err != nil {
		// Well formed, so only the currency or the fraction digits can be wrong.
		return paykit.Money{}, p.Wrap(op, paykit.ErrAmountMismatch, err, "the answer's "+field+" cannot be an amount paykit asked for")
	}
	return m, nil
}

// wellFormed reports whether s is an optionally negative decimal: digits, optionally a dot
// and more digits (what a JSON number without exponent is, leading zeros aside).
func wellFormed(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(s, ".")
	return intPart != "" && digits(intPart) && (!hasDot || (frac != "" && digits(frac)))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
