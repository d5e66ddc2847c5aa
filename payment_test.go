package paykit

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMoneyDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m       Money
		want    string
		wantErr bool
	}{
		{m: Money{9999, "EUR"}, want: "99.99"},
		{m: Money{5, "EUR"}, want: "0.05"},
		{m: Money{50, "EUR"}, want: "0.50"},
		{m: Money{100, "EUR"}, want: "1.00"},
		{m: Money{0, "EUR"}, want: "0.00"},
		{m: Money{-5, "EUR"}, want: "-0.05"},
		{m: Money{-9999, "EUR"}, want: "-99.99"},
		{m: Money{-100, "SEK"}, want: "-1.00"},
		{m: Money{1, "ECS"}, want: "0.01"},
		{m: Money{123456, "USD"}, want: "1234.56"},
		{m: Money{5, "JPY"}, want: "5"},
		{m: Money{0, "JPY"}, want: "0"},
		{m: Money{-5, "JPY"}, want: "-5"},
		{m: Money{7, "EC"}, want: "7"},
		{m: Money{math.MaxInt64, "EUR"}, want: "92233720368547758.07"},
		{m: Money{math.MinInt64, "EUR"}, want: "-92233720368547758.08"},
		{m: Money{math.MaxInt64, "JPY"}, want: "9223372036854775807"},
		{m: Money{math.MinInt64, "JPY"}, want: "-9223372036854775808"},
		{m: Money{100, "XXX"}, wantErr: true},
		{m: Money{100, "eur"}, wantErr: true},
		{m: Money{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.m.Currency+"/"+tt.want, func(t *testing.T) {
			t.Parallel()
			got, err := tt.m.Decimal()
			if tt.wantErr {
				if err == nil {
					t.Fatalf("%#v.Decimal() = %q, want an error", tt.m, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%#v.Decimal() = (%q, %v), want %q", tt.m, got, err, tt.want)
			}
		})
	}
}

func TestParseMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, currency string
		want         int64
		wantErr      bool
	}{
		{in: "99.99", currency: "EUR", want: 9999},
		{in: "0.05", currency: "EUR", want: 5},
		{in: "0", currency: "EUR", want: 0},
		{in: "0.00", currency: "EUR", want: 0},
		{in: "-0", currency: "EUR", want: 0},
		{in: "100", currency: "EUR", want: 10000},
		{in: "1.5", currency: "EUR", want: 150},
		{in: "1.50", currency: "EUR", want: 150},
		{in: "-0.05", currency: "EUR", want: -5},
		{in: "-99.99", currency: "EUR", want: -9999},
		{in: "99.990", currency: "EUR", want: 9999}, // trailing zeros are fine
		{in: "99.99000000000000000000", currency: "EUR", want: 9999},
		{in: "000000000000000000000001.00", currency: "EUR", want: 100},
		{in: "5", currency: "JPY", want: 5},
		{in: "5.0", currency: "JPY", want: 5},
		{in: "-5.000", currency: "JPY", want: -5},
		{in: "10", currency: "EC", want: 10},
		{in: "12.34", currency: "ECS", want: 1234},

		// Boundaries of int64.
		{in: "92233720368547758.07", currency: "EUR", want: math.MaxInt64},
		{in: "92233720368547758.08", currency: "EUR", wantErr: true},
		{in: "-92233720368547758.08", currency: "EUR", want: math.MinInt64},
		{in: "-92233720368547758.09", currency: "EUR", wantErr: true},
		{in: "9223372036854775807", currency: "JPY", want: math.MaxInt64},
		{in: "9223372036854775808", currency: "JPY", wantErr: true},
		{in: "-9223372036854775808", currency: "JPY", want: math.MinInt64},
		{in: "-9223372036854775809", currency: "JPY", wantErr: true},
		{in: "18446744073709551615", currency: "JPY", wantErr: true}, // MaxUint64
		{in: "18446744073709551616", currency: "JPY", wantErr: true}, // MaxUint64 + 1
		{in: "-18446744073709551616", currency: "JPY", wantErr: true},
		{in: "99999999999999999999999999", currency: "EUR", wantErr: true},

		// Digits Money cannot hold.
		{in: "99.999", currency: "EUR", wantErr: true},
		{in: "99.991", currency: "EUR", wantErr: true},
		{in: "0.001", currency: "EUR", wantErr: true},
		{in: "99.9900001", currency: "EUR", wantErr: true},
		{in: "5.5", currency: "JPY", wantErr: true},
		{in: "1.01", currency: "EC", wantErr: true},

		// Not a plain decimal.
		{in: "1e2", currency: "EUR", wantErr: true},
		{in: "1E2", currency: "JPY", wantErr: true},
		{in: "+1", currency: "EUR", wantErr: true},
		{in: " 1", currency: "EUR", wantErr: true},
		{in: "1 ", currency: "EUR", wantErr: true},
		{in: "", currency: "EUR", wantErr: true},
		{in: ".", currency: "EUR", wantErr: true},
		{in: "1.", currency: "EUR", wantErr: true},
		{in: ".5", currency: "EUR", wantErr: true},
		{in: "-.5", currency: "EUR", wantErr: true},
		{in: "-", currency: "EUR", wantErr: true},
		{in: "--1", currency: "EUR", wantErr: true},
		{in: "-+1", currency: "EUR", wantErr: true},
		{in: "1.2.3", currency: "EUR", wantErr: true},
		{in: "1,00", currency: "EUR", wantErr: true},
		{in: "1_000", currency: "EUR", wantErr: true},
		{in: "0x10", currency: "EUR", wantErr: true},
		{in: "１", currency: "JPY", wantErr: true}, // a full-width digit
		{in: "NaN", currency: "EUR", wantErr: true},
		{in: "Inf", currency: "EUR", wantErr: true},

		// Currencies paykit does not know.
		{in: "1.00", currency: "XXX", wantErr: true},
		{in: "1.00", currency: "eur", wantErr: true},
		{in: "1.00", currency: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.currency+"/"+tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMoney(tt.in, tt.currency)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseMoney(%q, %q) = %#v, want an error", tt.in, tt.currency, got)
				}
				if got != (Money{}) {
					t.Errorf("ParseMoney(%q, %q) returned %#v with its error, want the zero Money", tt.in, tt.currency, got)
				}
				return
			}
			want := Money{tt.want, tt.currency}
			if err != nil || got != want {
				t.Fatalf("ParseMoney(%q, %q) = (%#v, %v), want %#v", tt.in, tt.currency, got, err, want)
			}
		})
	}
}

func TestCurrencyExponent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		currency string
		want     int
		ok       bool
	}{
		{"SEK", 2, true}, {"EUR", 2, true}, {"INR", 2, true}, {"IDR", 2, true}, {"USD", 2, true},
		{"JPY", 0, true}, {"ECS", 2, true}, {"EC", 0, true},
		{"XXX", 0, false}, {"eur", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		if got, ok := CurrencyExponent(tt.currency); got != tt.want || ok != tt.ok {
			t.Errorf("CurrencyExponent(%q) = (%d, %v), want (%d, %v)", tt.currency, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMoneyStringAndIsZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m      Money
		str    string
		isZero bool
	}{
		{Money{9999, "EUR"}, "99.99 EUR", false},
		{Money{-5, "SEK"}, "-0.05 SEK", false},
		{Money{1500, "JPY"}, "1500 JPY", false},
		{Money{0, "EUR"}, "0.00 EUR", false},
		{Money{5, "XXX"}, "5 XXX (minor units)", false},
		{Money{}, "0  (minor units)", true},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.str {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.str)
		}
		if got := tt.m.IsZero(); got != tt.isZero {
			t.Errorf("%#v.IsZero() = %v, want %v", tt.m, got, tt.isZero)
		}
	}
}

// fuzzCurrencies are the currencies the fuzz tests pick from: every exponent (0, 2, 3, 4),
// and one unknown.
var fuzzCurrencies = []string{"EUR", "JPY", "EC", "ECS", "SEK", "XXX", "KWD", "CLF"}

// plainDecimal is the syntax ParseMoney documents: an optional '-', digits, and optionally a
// '.' followed by digits.
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// minorUnits computes, independently of ParseMoney, the exact value of a plain decimal in
// minor units, and whether it is a whole number of them.
func minorUnits(t *testing.T, decimal string, exp int) (*big.Int, bool) {
	t.Helper()
	r, ok := new(big.Rat).SetString(decimal)
	if !ok {
		t.Fatalf("big.Rat cannot read %q", decimal)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)))
	if !r.IsInt() {
		return nil, false
	}
	return r.Num(), true
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{
		"99.99", "0.05", "0", "-0", "-0.05", "99.990", "99.999", "1e2", "+1", " 1", "", ".", "1.",
		".5", "-", "92233720368547758.07", "92233720368547758.08", "-92233720368547758.08",
		"-9223372036854775808", "9223372036854775808", "18446744073709551616", "0001.00",
	} {
		for i := range fuzzCurrencies {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, s string, ci uint8) {
		currency := fuzzCurrencies[int(ci)%len(fuzzCurrencies)]
		m, err := ParseMoney(s, currency)
		exp, known := CurrencyExponent(currency)

		// What an exact parser must accept: a plain decimal, in a known currency, that is a
		// whole number of minor units within int64.
		shouldAccept := false
		var want *big.Int
		if known && plainDecimal.MatchString(s) {
			if v, whole := minorUnits(t, s, exp); whole && v.IsInt64() {
				shouldAccept, want = true, v
			}
		}
		if err != nil {
			if shouldAccept {
				t.Fatalf("ParseMoney(%q, %q) refused a valid amount (%v): %v", s, currency, want, err)
			}
			return
		}
		if !shouldAccept {
			t.Fatalf("ParseMoney(%q, %q) = %#v, want an error", s, currency, m)
		}
		if m.Currency != currency || m.Amount != want.Int64() {
			t.Fatalf("ParseMoney(%q, %q) = %#v, want {%v %s}", s, currency, m, want, currency)
		}
		d, err := m.Decimal()
		if err != nil {
			t.Fatalf("%#v.Decimal(): %v", m, err)
		}
		back, err := ParseMoney(d, currency)
		if err != nil || back != m {
			t.Fatalf("ParseMoney(%q) = (%#v, %v) after Decimal of %#v", d, back, err, m)
		}
	})
}

func FuzzMoneyDecimal(f *testing.F) {
	for _, a := range []int64{0, 1, 5, -5, 9999, -9999, 100, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		for i := range fuzzCurrencies {
			f.Add(a, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, amount int64, ci uint8) {
		m := Money{amount, fuzzCurrencies[int(ci)%len(fuzzCurrencies)]}
		d, err := m.Decimal()
		exp, known := CurrencyExponent(m.Currency)
		if !known {
			if err == nil {
				t.Fatalf("%#v.Decimal() = %q, want an error for an unknown currency", m, d)
			}
			return
		}
		if err != nil {
			t.Fatalf("%#v.Decimal(): %v", m, err)
		}
		// Canonical form: no '+', no leading zeros, exactly exp fraction digits.
		form := `^-?(0|[1-9][0-9]*)$`
		if exp > 0 {
			form = `^-?(0|[1-9][0-9]*)\.[0-9]{` + string(rune('0'+exp)) + `}$`
		}
		if !regexp.MustCompile(form).MatchString(d) || d == "-0" || strings.HasPrefix(d, "-0.") && strings.Trim(d[3:], "0") == "" {
			t.Fatalf("%#v.Decimal() = %q, not canonical", m, d)
		}
		if v, whole := minorUnits(t, d, exp); !whole || !v.IsInt64() || v.Int64() != amount {
			t.Fatalf("%#v.Decimal() = %q, which is %v minor units", m, d, v)
		}
		back, err := ParseMoney(d, m.Currency)
		if err != nil || back != m {
			t.Fatalf("ParseMoney(%q, %q) = (%#v, %v), want %#v", d, m.Currency, back, err, m)
		}
	})
}

func TestStatusIsFinal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    Status
		want bool
	}{
		{StatusPending, false},
		{StatusAuthorized, false},
		{StatusPartiallyCaptured, false},
		{StatusSucceeded, true},
		{StatusPartiallyRefunded, false},
		{StatusRefunded, true},
		{StatusCanceled, true},
		{StatusFailed, true},
		{StatusExpired, true},
		{StatusUnknown, false},
		{"", false},
		{"SUCCEEDED", false},
		{"paid", false},
	}
	for _, tt := range tests {
		if got := tt.s.IsFinal(); got != tt.want {
			t.Errorf("Status(%q).IsFinal() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestPaymentRequestValidate(t *testing.T) {
	t.Parallel()
	base := func() PaymentRequest {
		return PaymentRequest{
			ID:          "order-1",
			Amount:      Money{10000, "SEK"},
			Description: "Shoes",
			ReturnURL:   "https://shop.example/return",
			CancelURL:   "https://shop.example/cancel",
			NotifyURL:   "http://127.0.0.1:8080/notify",
		}
	}
	items := func(its ...Item) func(*PaymentRequest) {
		return func(r *PaymentRequest) { r.Items = its }
	}
	item := func(qty int, unit int64, currency string) Item {
		return Item{Name: "x", Quantity: qty, UnitAmount: Money{unit, currency}, VATRate: 2500}
	}
	tests := []struct {
		name    string
		modify  func(*PaymentRequest)
		wantErr string // a part of the error text; empty: valid
	}{
		{name: "valid", modify: func(*PaymentRequest) {}},
		{name: "valid without URLs", modify: func(r *PaymentRequest) { r.ReturnURL, r.CancelURL, r.NotifyURL = "", "", "" }},
		{name: "valid JPY", modify: func(r *PaymentRequest) { r.Amount = Money{1, "JPY"} }},
		{name: "valid EC", modify: func(r *PaymentRequest) { r.Amount = Money{3, "EC"} }},
		{name: "valid items", modify: items(item(2, 3000, "SEK"), item(1, 4000, "SEK"))},
		{name: "valid free item", modify: items(item(1, 10000, "SEK"), item(3, 0, "SEK"))},
		{name: "valid max amount", modify: func(r *PaymentRequest) {
			r.Amount = Money{math.MaxInt64, "EUR"}
			r.Items = []Item{item(1, math.MaxInt64-1, "EUR"), item(1, 1, "EUR")}
		}},

		{name: "unknown currency", modify: func(r *PaymentRequest) { r.Amount.Currency = "XXX" }, wantErr: "unknown currency"},
		{name: "no currency", modify: func(r *PaymentRequest) { r.Amount.Currency = "" }, wantErr: "unknown currency"},
		{name: "zero Money", modify: func(r *PaymentRequest) { r.Amount = Money{} }, wantErr: "unknown currency"},
		{name: "zero amount", modify: func(r *PaymentRequest) { r.Amount.Amount = 0 }, wantErr: "positive"},
		{name: "negative amount", modify: func(r *PaymentRequest) { r.Amount.Amount = -100 }, wantErr: "positive"},
		{name: "zero quantity", modify: items(item(0, 10000, "SEK")), wantErr: "quantity"},
		{name: "negative quantity", modify: items(item(-1, -10000, "SEK")), wantErr: "quantity"},
		{name: "item currency differs", modify: items(item(1, 10000, "EUR")), wantErr: "differs"},
		{name: "negative unit amount", modify: items(item(1, 20000, "SEK"), item(1, -10000, "SEK")), wantErr: "negative"},
		{name: "items short of amount", modify: items(item(1, 9999, "SEK")), wantErr: "add up"},
		{name: "items over amount", modify: items(item(2, 5001, "SEK")), wantErr: "add up"},
		{name: "line overflows", modify: items(item(2, math.MaxInt64/2+1, "SEK")), wantErr: "overflows"},
		{name: "line overflows to a positive", modify: items(item(4, math.MaxInt64/2+1, "SEK")), wantErr: "overflows"},
		{name: "sum overflows", modify: items(item(1, math.MaxInt64, "SEK"), item(1, 1, "SEK")), wantErr: "overflows"},
		{name: "sum overflows back to the amount", modify: func(r *PaymentRequest) {
			// Two halves whose wrapped sum would equal the amount.
			r.Amount = Money{math.MaxInt64, "SEK"}
			r.Items = []Item{item(1, math.MaxInt64, "SEK"), item(1, math.MaxInt64, "SEK"), item(1, 1, "SEK")}
		}, wantErr: "overflows"},
		{name: "ReturnURL without scheme", modify: func(r *PaymentRequest) { r.ReturnURL = "shop.example/return" }, wantErr: "ReturnURL"},
		{name: "ReturnURL relative", modify: func(r *PaymentRequest) { r.ReturnURL = "/return" }, wantErr: "ReturnURL"},
		{name: "ReturnURL ftp", modify: func(r *PaymentRequest) { r.ReturnURL = "ftp://shop.example/return" }, wantErr: "ReturnURL"},
		{name: "ReturnURL javascript", modify: func(r *PaymentRequest) { r.ReturnURL = "javascript:alert(1)" }, wantErr: "ReturnURL"},
		{name: "CancelURL without host", modify: func(r *PaymentRequest) { r.CancelURL = "https://" }, wantErr: "CancelURL"},
		{name: "CancelURL unparsable", modify: func(r *PaymentRequest) { r.CancelURL = "http://[::1" }, wantErr: "CancelURL"},
		{name: "NotifyURL leading space", modify: func(r *PaymentRequest) { r.NotifyURL = " https://shop.example/n" }, wantErr: "NotifyURL"},
		{name: "NotifyURL scheme-relative", modify: func(r *PaymentRequest) { r.NotifyURL = "//shop.example/n" }, wantErr: "NotifyURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := base()
			tt.modify(&r)
			err := r.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error about %q", tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("errors.Is(%v, ErrInvalidRequest) = false", err)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Op != "validate request" || pe.StatusCode != 0 {
				t.Errorf("Validate() = %#v, want an *Error with Op \"validate request\" and no status", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

// A URL that Validate refuses stays out of the error text: notify URLs often carry tokens.
func TestValidateKeepsURLsOutOfErrors(t *testing.T) {
	t.Parallel()
	req := PaymentRequest{Amount: Money{Amount: 100, Currency: "EUR"}, NotifyURL: "ftp://shop.example/notify?token=tok-SECRET-42"}
	err := req.Validate()
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("err = %v, want ErrInvalidRequest", err)
	}
	if strings.Contains(err.Error(), "tok-SECRET-42") || !strings.Contains(err.Error(), "NotifyURL") {
		t.Fatalf("error text %q", err.Error())
	}
}

func TestMoneyJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Money{Amount: 9999, Currency: "EUR"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"amount": 9999, "currency": "EUR"}`, string(b))
	assert.Equal(t, `{"amount":9999,"currency":"EUR"}`, string(b))

	// int64 minor units survive exactly, also past float64's 2^53.
	for _, m := range []Money{{Amount: math.MaxInt64, Currency: "SEK"}, {Amount: math.MinInt64, Currency: "JPY"}, {Amount: -5, Currency: "KWD"}, {}} {
		b, err := json.Marshal(m)
		require.NoError(t, err)
		var back Money
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, m, back, string(b))
	}
}

func TestActionJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    Action
		want string
	}{
		{Action{Type: ActionRedirect, URL: "https://pay.example/c/1"}, `{"type":"redirect","url":"https://pay.example/c/1"}`},
		{Action{Type: ActionQRCode, URL: "wallet://pay?id=1", QRCode: "EPAY:1:9999"}, `{"type":"qr_code","url":"wallet://pay?id=1","qr_code":"EPAY:1:9999"}`},
		{Action{Type: ActionClientToken, Token: "cart-key-1"}, `{"type":"client_token","token":"cart-key-1"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.a)
		require.NoError(t, err)
		assert.Equal(t, tt.want, string(b))
		var back Action
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, tt.a, back)
	}
}

func TestPaymentJSON(t *testing.T) {
	t.Parallel()
	full := Payment{
		Provider:       "ecster",
		ID:             "order-42",
		ProviderID:     "ECS-1234",
		Reference:      "R42",
		Amount:         Money{Amount: 9999, Currency: "SEK"},
		Captured:       Money{Amount: 4000, Currency: "SEK"},
		Refunded:       Money{Amount: 0, Currency: "SEK"},
		Status:         StatusPartiallyCaptured,
		ProviderStatus: "PARTIALLY_DELIVERED",
		Action:         &Action{Type: ActionRedirect, URL: "https://pay.example/c/1"},
		CreatedAt:      time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		ExpiresAt:      time.Date(2025, 3, 1, 10, 30, 0, 500_000_000, time.UTC),
	}
	b, err := json.Marshal(full)
	require.NoError(t, err)
	assert.Equal(t, `{"provider":"ecster","id":"order-42","provider_id":"ECS-1234","reference":"R42",`+
		`"amount":{"amount":9999,"currency":"SEK"},"captured":{"amount":4000,"currency":"SEK"},`+
		`"refunded":{"amount":0,"currency":"SEK"},"status":"partially_captured",`+
		`"provider_status":"PARTIALLY_DELIVERED","action":{"type":"redirect","url":"https://pay.example/c/1"},`+
		`"created_at":"2025-03-01T10:00:00Z","expires_at":"2025-03-01T10:30:00.5Z"}`, string(b))
	var back Payment
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, full, back)

	// What a zero value means absent is left out: no action, no provider id, no times, and
	// no captured or refunded when they are the zero Money.
	bare := Payment{Provider: "echelon", ID: "p1", Amount: Money{Amount: 100, Currency: "INR"}, Status: StatusPending}
	b, err = json.Marshal(bare)
	require.NoError(t, err)
	assert.Equal(t, `{"provider":"echelon","id":"p1","amount":{"amount":100,"currency":"INR"},"status":"pending"}`, string(b))
	back = Payment{}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, bare, back)

	// Times keep their offset in RFC 3339.
	cet := time.FixedZone("CET", 3600)
	b, err = json.Marshal(Payment{ID: "p2", CreatedAt: time.Date(2025, 12, 24, 18, 0, 0, 0, cet)})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"created_at":"2025-12-24T18:00:00+01:00"`)
	back = Payment{}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, back.CreatedAt.Equal(time.Date(2025, 12, 24, 17, 0, 0, 0, time.UTC)), back.CreatedAt)
	assert.True(t, back.ExpiresAt.IsZero())
}

func TestNotificationAndRequestJSON(t *testing.T) {
	t.Parallel()
	n := Notification{
		Provider: "entrecard", PaymentID: "order-42", Event: "paid", Status: StatusSucceeded, DedupKey: "k1",
		Payment: &Payment{Provider: "entrecard", ID: "order-42", Amount: Money{Amount: 7, Currency: "EC"}, Status: StatusSucceeded},
	}
	b, err := json.Marshal(n)
	require.NoError(t, err)
	assert.Equal(t, `{"provider":"entrecard","payment_id":"order-42","event":"paid","status":"succeeded","dedup_key":"k1",`+
		`"payment":{"provider":"entrecard","id":"order-42","amount":{"amount":7,"currency":"EC"},"status":"succeeded"}}`, string(b))
	var nb Notification
	require.NoError(t, json.Unmarshal(b, &nb))
	assert.Equal(t, n, nb)

	req := PaymentRequest{
		ID: "order-42", Reference: "R42", Amount: Money{Amount: 5000, Currency: "SEK"}, Description: "Mugs",
		Items:     []Item{{Reference: "MUG-1", Name: "Mug", Quantity: 2, UnitAmount: Money{Amount: 2500, Currency: "SEK"}, VATRate: 2500}},
		Customer:  &Customer{FirstName: "Eva", LastName: "Svensson", Email: "eva@example.com", Phone: "+46701234567", Country: "SE"},
		ReturnURL: "https://shop.example/ok", CancelURL: "https://shop.example/no", NotifyURL: "https://shop.example/hook",
		Locale: "sv-SE",
	}
	b, err = json.Marshal(req)
	require.NoError(t, err)
	assert.Equal(t, `{"id":"order-42","reference":"R42","amount":{"amount":5000,"currency":"SEK"},"description":"Mugs",`+
		`"items":[{"reference":"MUG-1","name":"Mug","quantity":2,"unit_amount":{"amount":2500,"currency":"SEK"},"vat_rate":2500}],`+
		`"customer":{"first_name":"Eva","last_name":"Svensson","email":"eva@example.com","phone":"+46701234567","country":"SE"},`+
		`"return_url":"https://shop.example/ok","cancel_url":"https://shop.example/no","notify_url":"https://shop.example/hook",`+
		`"locale":"sv-SE"}`, string(b))
	var rb PaymentRequest
	require.NoError(t, json.Unmarshal(b, &rb))
	assert.Equal(t, req, rb)

	b, err = json.Marshal(PaymentRequest{Amount: Money{Amount: 1, Currency: "EUR"}})
	require.NoError(t, err)
	assert.Equal(t, `{"amount":{"amount":1,"currency":"EUR"}}`, string(b))

	b, err = json.Marshal(Capabilities{Capture: true, PartialRefund: true})
	require.NoError(t, err)
	assert.Equal(t, `{"capture":true,"partial_capture":false,"refund":false,"partial_refund":true,"cancel":false,"webhooks":false,"payouts":false}`, string(b))
}
