package echelon

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

func TestMerchantLimiterShared(t *testing.T) {
	t.Parallel()
	a := merchantLimiter("https://api.test-shared.example", "M-1")
	assert.Same(t, a, merchantLimiter("https://api.test-shared.example/", "M-1"), "same merchant, trailing slash aside")
	assert.NotSame(t, a, merchantLimiter("https://api.test-shared.example", "M-2"), "another merchant")
	assert.NotSame(t, a, merchantLimiter("https://api.other-shared.example", "M-1"), "another host")

	c1, err := New(Config{MerchantCode: "M-3", Secret: "s", BaseURL: "https://api.test-shared.example"})
	require.NoError(t, err)
	c2, err := New(Config{MerchantCode: "M-3", Secret: "s", BaseURL: "https://api.test-shared.example"})
	require.NoError(t, err)
	assert.NotSame(t, c1, c2)
	assert.Same(t, merchantLimiter("https://api.test-shared.example", "M-3"), merchantLimiter("https://api.test-shared.example", "M-3"))
}

func TestToWire(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		m    paykit.Money
		want string
	}{
		{paykit.Money{Amount: 1, Currency: "USD"}, `{"amount":0.01,"currencyCode":"USD"}`},
		{paykit.Money{Amount: 4205, Currency: "USD"}, `{"amount":42.05,"currencyCode":"USD"}`},
		{paykit.Money{Amount: 4250, Currency: "USD"}, `{"amount":42.5,"currencyCode":"USD"}`},
		{paykit.Money{Amount: 500000, Currency: "INR"}, `{"amount":5000,"currencyCode":"INR"}`},
		{paykit.Money{Amount: 123456789012, Currency: "INR"}, `{"amount":1234567890.12,"currencyCode":"INR"}`},
		{paykit.Money{Amount: 9223372036854775807, Currency: "IDR"}, `{"amount":92233720368547758.07,"currencyCode":"IDR"}`},
		{paykit.Money{Amount: 1000, Currency: "JPY"}, `{"amount":1000,"currencyCode":"JPY"}`},
	} {
		w, err := toWire("test", c.m)
		require.NoError(t, err)
		b, err := json.Marshal(w)
		require.NoError(t, err)
		assert.Equal(t, c.want, string(b))
	}
	for _, m := range []paykit.Money{{Amount: 0, Currency: "USD"}, {Amount: -5, Currency: "USD"}, {Amount: 5, Currency: "XXX"}, {Amount: 5}} {
		_, err := toWire("test", m)
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, "%v", m)
	}
}

func TestReadMoney(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		amount, currency string
		want             paykit.Money
		kind             error
	}{
		{"0.01", "USD", paykit.Money{Amount: 1, Currency: "USD"}, nil},
		{"42.05", "USD", paykit.Money{Amount: 4205, Currency: "USD"}, nil},
		{"42.050", "USD", paykit.Money{Amount: 4205, Currency: "USD"}, nil},
		{"5000", "INR", paykit.Money{Amount: 500000, Currency: "INR"}, nil},
		{"5000.00", "INR", paykit.Money{Amount: 500000, Currency: "INR"}, nil},
		{"1234567890.12", "INR", paykit.Money{Amount: 123456789012, Currency: "INR"}, nil},
		{"42.051", "USD", paykit.Money{}, paykit.ErrAmountMismatch},
		{"0.001", "USD", paykit.Money{}, paykit.ErrAmountMismatch},
		{"1.5", "JPY", paykit.Money{}, paykit.ErrAmountMismatch},
		{"5", "XYZ", paykit.Money{}, paykit.ErrAmountMismatch},
		{"1e3", "USD", paykit.Money{}, paykit.ErrUnavailable},
		{"", "USD", paykit.Money{}, paykit.ErrUnavailable},
		{"42.05", "", paykit.Money{}, paykit.ErrUnavailable},
	} {
		w := &wireMoney{Amount: json.Number(c.amount), CurrencyCode: c.currency}
		got, err := w.read("test", "money")
		if c.kind != nil {
			assert.ErrorIs(t, err, c.kind, "%s %s", c.amount, c.currency)
			continue
		}
		require.NoError(t, err, "%s %s", c.amount, c.currency)
		assert.Equal(t, c.want, got)
	}
	var missing *wireMoney
	_, err := missing.read("test", "money")
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
}

// FuzzReadMoney: whatever EchelonPay answers, reading it never panics; an amount it accepts
// is exactly the decimal it read (written back, it is the same number), and a refusal is an
// amount mismatch or a broken answer, nothing else.
func FuzzReadMoney(f *testing.F) {
	for _, s := range []string{"0.01", "42.05", "42.050", "5000", "5000.00", "1234567890.12", "42.051", "-1.5", "1e3", "", ".5", "5.", "00012.30", "99999999999999999999"} {
		f.Add(s, "USD")
		f.Add(s, "JPY")
	}
	f.Add("1", "XXX")
	f.Fuzz(func(t *testing.T, amount, currency string) {
		w := &wireMoney{Amount: json.Number(amount), CurrencyCode: currency}
		m, err := w.read("fuzz", "money")
		if err != nil {
			if !errors.Is(err, paykit.ErrAmountMismatch) && !errors.Is(err, paykit.ErrUnavailable) {
				t.Fatalf("%q %q: unexpected error kind: %v", amount, currency, err)
			}
			return
		}
		if m.Currency != currency {
			t.Fatalf("%q %q: read as %v", amount, currency, m)
		}
		d, err := m.Decimal()
		if err != nil {
			t.Fatalf("%q %q: read %v, which has no decimal: %v", amount, currency, m, err)
		}
		back, err := paykit.ParseMoney(d, currency)
		if err != nil || back != m {
			t.Fatalf("%q %q: read %v, written %q, read back %v (%v)", amount, currency, m, d, back, err)
		}
		// The decimal read and the one written are the same number: equal once trailing
		// fraction zeros and leading integer zeros are dropped.
		if norm(amount) != norm(d) {
			t.Fatalf("%q %q: read %v, which writes %q", amount, currency, m, d)
		}
	})
}

// norm writes a decimal without leading integer zeros and trailing fraction zeros.
func norm(d string) string {
	neg := strings.HasPrefix(d, "-")
	d = strings.TrimPrefix(d, "-")
	d = trimZeros(d)
	d = strings.TrimLeft(d, "0")
	if d == "" || strings.HasPrefix(d, ".") {
		d = "0" + d
	}
	if neg && d != "0" {
		d = "-" + d
	}
	return d
}

func TestParseCallbackBody(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body          string
		payin, payout string
	}{
		{`{"idPayin":"p-1"}`, "p-1", ""},
		{`{"idPayout":"po-1"}`, "", "po-1"},
		{`{"idPayin":"p-1","event":"STATUS_CHANGED","status":"SUCCESS","extra":{"a":[1,2]}}`, "p-1", ""},
		{`{"idpayin":"p-1"}`, "p-1", ""}, // names match regardless of case
		{`{"idPayin":12345}`, "12345", ""},
		{`{"idPayin":12345678901234567890123}`, "12345678901234567890123", ""},
		{`{"idPayin":null}`, "", ""},
		{`{"idPayin":{"x":1}}`, "", ""},
		{`{"idPayin":true}`, "", ""},
		{`[]`, "", ""},
		{`not json`, "", ""},
		{``, "", ""},
		{`{"idPayin":"p-1"} trailing`, "p-1", ""},
	} {
		payin, payout := parseCallbackBody([]byte(c.body))
		assert.Equal(t, c.payin, payin, c.body)
		assert.Equal(t, c.payout, payout, c.body)
	}
}

// FuzzCallback: a callback, whatever its body and URL, is read without a panic into a
// refusal of the kinds the handler answers (400, 401) or an id the body or the signed URL
// named.
func FuzzCallback(f *testing.F) {
	signed, err := New(Config{MerchantCode: "M", Secret: "s", BaseURL: "https://api.sandbox.echelonpay.com", NotifySecret: "notify-secret"})
	if err != nil {
		f.Fatal(err)
	}
	plain, err := New(Config{MerchantCode: "M", Secret: "s", BaseURL: "https://api.sandbox.echelonpay.com"})
	if err != nil {
		f.Fatal(err)
	}
	sig := signed.signer.Signature("p-1")
	for _, s := range []struct{ query, body string }{
		{"", `{"idPayin":"p-1"}`},
		{"paykit_id=p-1&paykit_sig=" + sig, `{"idPayin":"p-1"}`},
		{"paykit_id=p-1&paykit_sig=" + sig, ``},
		{"paykit_id=p-1&paykit_sig=" + sig, `{"idPayin":"p-2"}`},
		{"paykit_id=p-1&paykit_sig=AAAA", `{"idPayin":"p-1"}`},
		{"paykit_id=p-1&paykit_id=p-1&paykit_sig=" + sig, `{}`},
		{"shop=7", `{"idPayout":"po-1"}`},
		{"%zz", `{"idPayin":1}`},
	} {
		f.Add(s.query, s.body)
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		for _, c := range []*Client{signed, plain} {
			for _, kind := range []callbackKind{callbackPayin, callbackPayout} {
				r := httptest.NewRequest("POST", "/cb", strings.NewReader(body))
				r.URL.RawQuery = query
				cb, err := c.readCallback("fuzz", r, kind)
				if err != nil {
					if !errors.Is(err, paykit.ErrInvalidRequest) && !errors.Is(err, paykit.ErrInvalidSignature) {
						t.Fatalf("unexpected error kind: %v", err)
					}
					continue
				}
				if cb.ID == "" {
					t.Fatal("accepted a callback that names nothing")
				}
				if c == signed {
					id, verr := c.signer.Verify(r.URL)
					if verr != nil || id != cb.ID {
						t.Fatalf("accepted %q without its signature (%v)", cb.ID, verr)
					}
				}
			}
		}
	})
}
