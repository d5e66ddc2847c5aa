package entrecard_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/internal/safeprint"
)

func TestNewIDFitsAnItemID(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		id := entrecard.NewID()
		require.Regexp(t, re, id)
		require.False(t, seen[id])
		seen[id] = true
	}
}

// Every CreatePayment error names the payment id, generated or given.
func TestCreatePaymentErrorsCarryThePaymentID(t *testing.T) {
	t.Parallel()
	c, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "seller-secret"})
	require.NoError(t, err)
	ctx := context.Background()
	var pe *paykit.Error

	_, err = c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 10, Currency: "EUR"}})
	require.ErrorIs(t, err, paykit.ErrInvalidRequest)
	require.ErrorAs(t, err, &pe)
	assert.Regexp(t, `^[0-9a-f]{32}$`, pe.PaymentID)
	assert.Equal(t, "create payment", pe.Op)

	_, err = c.CreatePayment(ctx, paykit.PaymentRequest{ID: "bad id!", Amount: paykit.Money{Amount: 10, Currency: "EC"},
		Description: "x", NotifyURL: "https://m.test/n", ReturnURL: "https://m.test/s", CancelURL: "https://m.test/c"})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "bad id!", pe.PaymentID)
}

func TestClientAndConfigPrintNoSecret(t *testing.T) {
	t.Parallel()
	cfg := entrecard.Config{SellerID: "1001", Secret: "seller-secret-<&>\"", Store: entrecard.NewMemoryStore()}
	c, err := entrecard.New(cfg)
	require.NoError(t, err)
	for _, v := range []any{cfg, &cfg, c, struct{ C entrecard.Config }{cfg}} {
		for _, form := range safeprint.Forms(v) {
			assert.NotContains(t, form, "seller-secret")
			assert.Contains(t, form, "1001")
		}
	}
}
