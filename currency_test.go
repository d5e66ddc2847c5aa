package paykit

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/internal/iso4217"
)

// TestCurrencyTableIsGenerated fails while currency_table.go is not what `go generate` makes
// of internal/iso4217/list.tsv: edit the list, then run go generate.
func TestCurrencyTableIsGenerated(t *testing.T) {
	t.Parallel()
	want, err := iso4217.Generate(iso4217.Source)
	require.NoError(t, err)
	got, err := os.ReadFile("currency_table.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "currency_table.go is stale: run `go generate` in the module root")
}

// TestCurrencyExponentISO4217 checks the table against what list one says of the codes with
// unusual minor units, and that merchants' currencies outside the old closed list work.
func TestCurrencyExponentISO4217(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		// Refused before the full table (issue 14): EchelonPay merchants use them.
		"BDT": 2, "AED": 2, "PKR": 2, "KWD": 3,
		// Three minor units.
		"BHD": 3, "IQD": 3, "JOD": 3, "LYD": 3, "OMR": 3, "TND": 3,
		// Four.
		"CLF": 4, "UYW": 4,
		// None.
		"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
		"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
		// Recent changes applied (see list.tsv): ZWG 2024, XCG 2025, SLE 2022, VED 2021.
		"ZWG": 2, "XCG": 2, "SLE": 2, "VED": 2, "VES": 2, "MRU": 2, "STN": 2, "BYN": 2,
		// Two, where a guess from the coin in use would say otherwise: ISO's word counts.
		"IDR": 2, "HUF": 2, "MGA": 2, "COP": 2, "TWD": 2, "IRR": 2, "LAK": 2,
		// paykit's own.
		"ECS": 2, "EC": 0,
	}
	for code, exp := range want {
		got, ok := CurrencyExponent(code)
		assert.True(t, ok, "%s should be known", code)
		assert.Equal(t, exp, got, "exponent of %s", code)
	}

	refused := []string{
		// Minor unit N.A. in list one: no payment is made in them.
		"XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA", "XTS", "XXX",
		// Withdrawn.
		"HRK", "ZWL", "CUC", "MRO", "STD", "VEF", "BYR", "SLL", "ANG", "LTL", "EEK",
		// Not codes, or not in upper case.
		"", "eur", "Eur", "EURO", "XYZ", "BTC", "E", "ecs",
	}
	for _, code := range refused {
		got, ok := CurrencyExponent(code)
		assert.False(t, ok, "%q should be unknown", code)
		assert.Zero(t, got, "%q", code)
	}
}

// TestCurrencyExponentKeepsTheOldList: every currency of the closed list paykit had before
// the full table is still there with the same exponent.
func TestCurrencyExponentKeepsTheOldList(t *testing.T) {
	t.Parallel()
	old := map[string]int{
		"AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2,
		"HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JPY": 0, "KRW": 0, "MXN": 2,
		"MYR": 2, "NOK": 2, "NZD": 2, "PHP": 2, "PLN": 2, "RON": 2, "SEK": 2, "SGD": 2, "THB": 2,
		"TRY": 2, "USD": 2, "VND": 0, "ZAR": 2,
		"ECS": 2,
		"EC":  0,
	}
	for code, exp := range old {
		got, ok := CurrencyExponent(code)
		assert.True(t, ok, code)
		assert.Equal(t, exp, got, code)
	}
}

// TestCurrencyTableSize: the table is list one's codes with minor units, no more (a code
// given twice in the source is refused by the generator; in the map it would not compile),
// and paykit's own two units do not shadow an ISO code.
func TestCurrencyTableSize(t *testing.T) {
	t.Parallel()
	list, err := iso4217.Parse(iso4217.Source)
	require.NoError(t, err)
	usable := 0
	for _, c := range list {
		if c.Minor != iso4217.NoMinorUnits {
			usable++
			exp, ok := CurrencyExponent(c.Code)
			require.True(t, ok, c.Code)
			require.Equal(t, c.Minor, exp, c.Code)
		} else {
			_, ok := CurrencyExponent(c.Code)
			require.False(t, ok, "%s has no minor units and must be refused", c.Code)
		}
	}
	assert.Len(t, list, 178, "codes in list one as written in list.tsv")
	assert.Equal(t, 165, usable, "codes with minor units")
	assert.Len(t, isoExponents, usable)
	for code := range ownCurrencies {
		_, clash := isoExponents[code]
		assert.False(t, clash, "%s is both paykit's own and an ISO code", code)
	}
}

// TestPaymentRequestValidateTakesEveryISOCurrency: the request check follows the table, so a
// BDT or KWD payment is no longer refused as an unknown currency.
func TestPaymentRequestValidateTakesEveryISOCurrency(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"BDT", "AED", "PKR", "KWD", "XCG", "ZWG"} {
		req := PaymentRequest{Amount: Money{Amount: 1000, Currency: code}}
		assert.NoError(t, req.Validate(), code)
	}
	err := PaymentRequest{Amount: Money{Amount: 1000, Currency: "XAU"}}.Validate()
	require.ErrorIs(t, err, ErrInvalidRequest)
}

func TestMoneyDecimalOfThreeAndFourDigitCurrencies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		m    Money
		want string
	}{
		{Money{Amount: 1234, Currency: "KWD"}, "1.234"},
		{Money{Amount: 5, Currency: "BHD"}, "0.005"},
		{Money{Amount: -1, Currency: "TND"}, "-0.001"},
		{Money{Amount: 12345, Currency: "CLF"}, "1.2345"},
		{Money{Amount: 7, Currency: "UYW"}, "0.0007"},
		{Money{Amount: 500, Currency: "XOF"}, "500"},
	} {
		got, err := tt.m.Decimal()
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.m.Currency)
		back, err := ParseMoney(got, tt.m.Currency)
		require.NoError(t, err)
		assert.Equal(t, tt.m, back)
	}
	_, err := ParseMoney("1.2345", "KWD")
	assert.Error(t, err, "KWD has 3 fraction digits")
}
