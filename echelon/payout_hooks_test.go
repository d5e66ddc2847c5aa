package echelon_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

// hookLog is a paykit.Hooks that keeps what a webhook handler reports.
type hookLog struct {
	mu         sync.Mutex
	operations []paykit.OperationStart
	ends       []paykit.OperationEnd
	deliveries []paykit.WebhookDelivery
	stores     []paykit.StoreCall
}

func (l *hookLog) hooks() *paykit.Hooks {
	return &paykit.Hooks{
		Operation: func(ctx context.Context, op paykit.OperationStart) (context.Context, func(paykit.OperationEnd)) {
			l.mu.Lock()
			l.operations = append(l.operations, op)
			l.mu.Unlock()
			return ctx, func(end paykit.OperationEnd) {
				l.mu.Lock()
				l.ends = append(l.ends, end)
				l.mu.Unlock()
			}
		},
		Webhook: func(_ context.Context, d paykit.WebhookDelivery) {
			l.mu.Lock()
			l.deliveries = append(l.deliveries, d)
			l.mu.Unlock()
		},
		Store: func(_ context.Context, s paykit.StoreCall) {
			l.mu.Lock()
			l.stores = append(l.stores, s)
			l.mu.Unlock()
		},
	}
}

// verdicts returns the verdicts reported so far, in order.
func (l *hookLog) verdicts() []paykit.WebhookVerdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []paykit.WebhookVerdict
	for _, d := range l.deliveries {
		out = append(out, d.Verdict)
	}
	return out
}

// TestPayoutWebhookHooks: the payout handler reports each callback to WithWebhookHooks as
// NewWebhookHandler does: an operation, its verdict and its dedupe store calls, under the
// name "echelon payout".
func TestPayoutWebhookHooks(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	log := new(hookLog)
	m := newMerchant(t, c, paykit.WithWebhookHooks(log.hooks()))
	ctx := guard(t)

	_, err := c.CreatePayout(ctx, echelon.PayoutRequest{ID: "po-1", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1", CallbackURL: m.srv.URL + "/cb/payout"})
	require.NoError(t, err)
	require.NoError(t, fake.Process("po-1"))
	require.NoError(t, fake.WaitDelivered(ctx, "po-1"))
	_, err = fake.Redeliver(ctx, "po-1")
	require.NoError(t, err)
	code, _ := m.post(t, "/cb/payout", `{"idPayin":"po-1"}`)
	require.Equal(t, 400, code)
	// po-2 has no callback URL: the fake sends nothing, and only these posts arrive.
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{ID: "po-2", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1"})
	require.NoError(t, err)
	m.setFailing(true)
	code, _ = m.post(t, "/cb/payout", `{"idPayout":"po-2"}`)
	require.Equal(t, 500, code)
	m.setFailing(false)
	code, _ = m.post(t, "/cb/payout", `{"idPayout":"po-2"}`)
	require.Equal(t, 200, code)
	fake.FailNext(10, 500, echelontest.OnRoute("GET", echelontest.RoutePayout))
	code, _ = m.post(t, "/cb/payout", `{"idPayout":"po-2"}`)
	require.Equal(t, 503, code)
	fake.ClearFaults()

	want := []struct {
		verdict paykit.WebhookVerdict
		status  int
		id      string
	}{
		{paykit.WebhookProcessed, 200, "po-1"},
		{paykit.WebhookDuplicate, 200, "po-1"},
		{paykit.WebhookMalformed, 400, ""}, // refused before it named a payout
		{paykit.WebhookFnFailed, 500, "po-2"},
		{paykit.WebhookProcessed, 200, "po-2"},
		{paykit.WebhookFetchFailed, 503, "po-2"},
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	require.Len(t, log.deliveries, len(want))
	require.Len(t, log.operations, len(want), "one operation per callback")
	require.Len(t, log.ends, len(want))
	for i, w := range want {
		d, end := log.deliveries[i], log.ends[i]
		assert.Equal(t, paykit.OperationStart{Provider: "echelon payout", Op: paykit.OpHandleNotification}, log.operations[i])
		assert.Equal(t, "echelon payout", d.Provider)
		assert.Equal(t, w.verdict, d.Verdict, i)
		assert.Equal(t, w.status, d.StatusCode, i)
		assert.Equal(t, w.id, d.PaymentID, i)
		assert.Equal(t, w.id, end.PaymentID, i)
		if w.status == 200 {
			assert.NoError(t, d.Err, i)
			assert.NoError(t, end.Err, i)
		} else {
			assert.Error(t, d.Err, i)
			assert.Error(t, end.Err, i)
		}
	}
	// A claim for each callback that reached the store (all but the malformed one and the
	// failed fetch), a finish for each claim taken (all but the duplicate's).
	var ops []string
	for _, s := range log.stores {
		assert.Equal(t, "dedupe", s.Store)
		assert.NoError(t, s.Err)
		ops = append(ops, s.Op)
	}
	assert.Equal(t, []string{"claim", "finish", "claim", "claim", "finish", "claim", "finish"}, ops)
}

// TestPayoutWebhookSignatureVerdict: a callback refused for its signature is reported as
// bad_signature with 401, and nothing is fetched.
func TestPayoutWebhookSignatureVerdict(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{NotifySecret: "notify-secret-value"})
	log := new(hookLog)
	m := newMerchant(t, c, paykit.WithWebhookHooks(log.hooks()))
	code, _ := m.post(t, "/cb/payout?paykit_id=po-9&paykit_sig=forged", `{"idPayout":"po-9"}`)
	require.Equal(t, 401, code)
	require.Equal(t, []paykit.WebhookVerdict{paykit.WebhookBadSignature}, log.verdicts())
	log.mu.Lock()
	defer log.mu.Unlock()
	assert.Equal(t, 401, log.deliveries[0].StatusCode)
	assert.ErrorIs(t, log.deliveries[0].Err, paykit.ErrInvalidSignature)
	assert.Empty(t, log.stores)
	assert.Empty(t, fake.CallLog())
}
