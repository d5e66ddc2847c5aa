package wiremoney

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/perr"
)

const p = perr.For("acme")

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, currency string
		want         paykit.Money
		kind         error
	}{
		{"99.99", "EUR", paykit.Money{Amount: 9999, Currency: "EUR"}, nil},
		{"99.990", "EUR", paykit.Money{Amount: 9999, Currency: "EUR"}, nil},
		{"5000", "INR", paykit.Money{Amount: 500000, Currency: "INR"}, nil},
		{"0.01", "USD", paykit.Money{Amount: 1, Currency: "USD"}, nil},
		{"1234567890.12", "INR", paykit.Money{Amount: 123456789012, Currency: "INR"}, nil},
		{"99.991", "EUR", paykit.Money{}, paykit.ErrAmountMismatch},
		{"42.051", "USD", paykit.Money{}, paykit.ErrAmountMismatch},
		{"1.5", "JPY", paykit.Money{}, paykit.ErrAmountMismatch},
		{"10", "XXX", paykit.Money{}, paykit.ErrAmountMismatch},
		{"99999999999999999999", "EUR", paykit.Money{}, paykit.ErrAmountMismatch},
		{"", "EUR", paykit.Money{}, paykit.ErrUnavailable},
		{"1e2", "EUR", paykit.Money{}, paykit.ErrUnavailable},
		{"abc", "EUR", paykit.Money{}, paykit.ErrUnavailable},
		{"1.", "EUR", paykit.Money{}, paykit.ErrUnavailable},
		{".5", "EUR", paykit.Money{}, paykit.ErrUnavailable},
		{"+1", "EUR", paykit.Money{}, paykit.ErrUnavailable},
	}
	for _, tt := range tests {
		got, err := Read(p, "get", "amount", tt.in, tt.currency)
		if tt.kind == nil {
			require.NoError(t, err, tt.in)
			assert.Equal(t, tt.want, got, tt.in)
			continue
		}
		require.ErrorIs(t, err, tt.kind, tt.in)
		other := paykit.ErrUnavailable
		if tt.kind == paykit.ErrUnavailable {
			other = paykit.ErrAmountMismatch
		}
		assert.NotErrorIs(t, err, other, tt.in)
		assert.Contains(t, err.Error(), "amount", tt.in)
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{"99.99", "0", "-1.5", "1e3", "99.991", "", "."} {
		f.Add(s, "EUR")
	}
	f.Fuzz(func(t *testing.T, s, currency string) {
		m, err := Read(p, "get", "amount", s, currency)
		if err != nil {
			if !errors.Is(err, paykit.ErrAmountMismatch) && !errors.Is(err, paykit.ErrUnavailable) {
				t.Fatalf("unexpected kind: %v", err)
			}
			return
		}
		// What was read prints back as the same number.
		d, derr := m.Decimal()
		require.NoError(t, derr)
		back, err := paykit.ParseMoney(d, currency)
		require.NoError(t, err)
		assert.Equal(t, m, back)
	})
}
