package ecster_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// The contract's status map, every row of it.
func TestPaykitStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status            ecster.OrderStatus
		debited, credited ecster.Amount
		want              paykit.Status
	}{
		{ecster.OrderReady, 0, 0, paykit.StatusAuthorized},
		{ecster.OrderPendingPayment, 0, 0, paykit.StatusPending},
		{ecster.OrderPendingDecision, 0, 0, paykit.StatusPending},
		{ecster.OrderPendingSignature, 0, 0, paykit.StatusPending},
		{ecster.OrderPendingProcessing, 0, 0, paykit.StatusPending},
		{ecster.OrderManualProcessing, 0, 0, paykit.StatusPending},
		{ecster.OrderPartiallyDelivered, 500, 0, paykit.StatusPartiallyCaptured},
		{ecster.OrderPartiallyDelivered, 500, 100, paykit.StatusPartiallyRefunded},
		{ecster.OrderPartiallyDelivered, 500, 500, paykit.StatusPartiallyRefunded},
		{ecster.OrderFullyDelivered, 1000, 0, paykit.StatusSucceeded},
		{ecster.OrderFullyDelivered, 1000, 1, paykit.StatusPartiallyRefunded},
		{ecster.OrderFullyDelivered, 1000, 999, paykit.StatusPartiallyRefunded},
		{ecster.OrderFullyDelivered, 1000, 1000, paykit.StatusRefunded},
		{ecster.OrderFullyDelivered, 600, 600, paykit.StatusRefunded}, // partly debited, the rest annulled
		{ecster.OrderAnnulled, 0, 0, paykit.StatusCanceled},
		{ecster.ParseOrderStatus("ANNULED"), 0, 0, paykit.StatusCanceled},
		{ecster.OrderAborted, 0, 0, paykit.StatusCanceled},
		{ecster.OrderDenied, 0, 0, paykit.StatusFailed},
		{ecster.OrderFailed, 0, 0, paykit.StatusFailed},
		{ecster.OrderBlocked, 0, 0, paykit.StatusFailed},
		{ecster.OrderExpired, 0, 0, paykit.StatusExpired},
		{"STOPPED", 0, 0, paykit.StatusUnknown},
		{"AWAITING_CONTRACT", 0, 0, paykit.StatusUnknown},
		{"", 0, 0, paykit.StatusUnknown},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.status.PaykitStatus(tt.debited, tt.credited), "%s %d/%d", tt.status, tt.debited, tt.credited)
	}
}

// Every status a checkout can end in, read back through GetPayment from the fake.
func TestGetPaymentMapsEachCheckoutStatus(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	for status, want := range map[ecster.OrderStatus]paykit.Status{
		ecster.OrderReady:             paykit.StatusAuthorized,
		ecster.OrderPendingPayment:    paykit.StatusPending,
		ecster.OrderPendingDecision:   paykit.StatusPending,
		ecster.OrderPendingSignature:  paykit.StatusPending,
		ecster.OrderPendingProcessing: paykit.StatusPending,
		ecster.OrderManualProcessing:  paykit.StatusPending,
		ecster.OrderDenied:            paykit.StatusFailed,
		ecster.OrderFailed:            paykit.StatusFailed,
		ecster.OrderBlocked:           paykit.StatusFailed,
		ecster.OrderAborted:           paykit.StatusCanceled,
		ecster.OrderExpired:           paykit.StatusExpired,
		ecster.OrderFullyDelivered:    paykit.StatusSucceeded, // charged at purchase (Swish)
		"SOMETHING_NEW":               paykit.StatusUnknown,
	} {
		id := ordered(t, ctx, srv, c, 1000, status)
		p, err := c.GetPayment(ctx, id)
		require.NoError(t, err, status)
		assert.Equal(t, want, p.Status, status)
		assert.Equal(t, string(status), p.ProviderStatus, "the provider's own word is kept")
		assert.Equal(t, id, p.ID)
		assert.NotEmpty(t, p.ProviderID)
		assert.Equal(t, sek(1000), p.Amount)
		assert.False(t, p.CreatedAt.IsZero())
	}
}

// The statuses that transactions make: PARTIALLY_DELIVERED, FULLY_DELIVERED with credits,
// ANNULLED; and Ecster's own changes (Expire, Block, ManualProcessing, SetStatus).
func TestGetPaymentFollowsTheOrder(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)

	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	steps := []struct {
		do                 func() (*paykit.Payment, error)
		want               paykit.Status
		captured, refunded int64
		provider           ecster.OrderStatus
	}{
		{func() (*paykit.Payment, error) { return c.Capture(ctx, id, sek(400)) }, paykit.StatusPartiallyCaptured, 400, 0, ecster.OrderPartiallyDelivered},
		{func() (*paykit.Payment, error) { return c.Refund(ctx, id, sek(100)) }, paykit.StatusPartiallyRefunded, 400, 100, ecster.OrderPartiallyDelivered},
		{func() (*paykit.Payment, error) { return c.Capture(ctx, id, paykit.Money{}) }, paykit.StatusPartiallyRefunded, 1000, 100, ecster.OrderFullyDelivered},
		{func() (*paykit.Payment, error) { return c.Refund(ctx, id, paykit.Money{}) }, paykit.StatusRefunded, 1000, 1000, ecster.OrderFullyDelivered},
	}
	for i, s := range steps {
		p, err := s.do()
		require.NoError(t, err, i)
		assert.Equal(t, s.want, p.Status, i)
		assert.Equal(t, sek(s.captured), p.Captured, i)
		assert.Equal(t, sek(s.refunded), p.Refunded, i)
		assert.Equal(t, string(s.provider), p.ProviderStatus, i)
		got, err := c.GetPayment(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, p, got, "the payment returned by the operation is the one Ecster shows after it (step %d)", i)
	}

	annul := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	p, err := c.Cancel(ctx, annul)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusCanceled, p.Status)
	assert.Equal(t, "ANNULLED", p.ProviderStatus)

	partial := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	_, err = c.Capture(ctx, partial, sek(600))
	require.NoError(t, err)
	p, err = c.Cancel(ctx, partial)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, p.Status, "the rest annulled after a partial debit")
	assert.Equal(t, sek(600), p.Captured)
	_, err = c.Capture(ctx, partial, paykit.Money{})
	require.ErrorIs(t, err, paykit.ErrUnprocessable, "nothing remains to capture after the annulment")

	for control, want := range map[string]paykit.Status{"expire": paykit.StatusExpired, "block": paykit.StatusFailed, "manual": paykit.StatusPending, "decide": paykit.StatusAuthorized} {
		id := ordered(t, ctx, srv, c, 1000, ecster.OrderPendingDecision)
		switch control {
		case "expire":
			require.NoError(t, srv.Expire(id))
		case "block":
			require.NoError(t, srv.Block(id))
		case "manual":
			require.NoError(t, srv.ManualProcessing(id))
		case "decide":
			require.NoError(t, srv.SetStatus(id, ecster.OrderReady))
		}
		p, err := c.GetPayment(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, p.Status, control)
	}
}
