package ecster_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// A search that answers an order's summary with an empty transactions list, while the order
// shows money debited, is no proof that the key's DEBIT is absent: the client reads the
// order itself before deciding, finds the keyed DEBIT, and sends nothing (a repeat that
// trusted the summary would debit again).
func TestKeyedRepeatReadsTheOrderBehindAnEmptySummary(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	mock := httpmock.NewMockTransport()
	hc.Transport = mock
	base := "https://ecster.test/rest/public"
	c, err := ecster.New(ecster.Config{APIKey: "k", MerchantKey: "m", BaseURL: base}, paykit.WithHTTPClient(hc))
	require.NoError(t, err)

	const id = "order-7"
	summary := ecstertest.NewOrder(id, sek(1000), ecster.OrderPartiallyDelivered)
	summary.DebitedAmount = 400
	summary.Transactions = []ecster.Transaction{}
	full := summary
	full.Transactions = []ecster.Transaction{{ID: "d1", Type: ecster.TransactionDebit, Created: time.Now(), Amount: 400,
		TransactionReference: ecster.TransactionReference(id, ecster.TransactionDebit, "cap-1")}}
	body := string(ecstertest.OrdersBody(summary))
	require.Contains(t, body, `"transactions":[]`)
	mock.RegisterResponder(http.MethodGet, base+"/v1/orders", httpmock.NewStringResponder(http.StatusOK, body))
	mock.RegisterResponder(http.MethodGet, base+"/v1/orders/"+summary.ID, httpmock.NewBytesResponder(http.StatusOK, ecstertest.OrderBody(full)))

	posts := 0
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transactions") {
			posts++
			again := ecster.Transaction{ID: "d2", Type: ecster.TransactionDebit, Created: time.Now(), Amount: 400}
			return httpmock.NewBytesResponse(http.StatusCreated, ecstertest.TransactionBody(ecster.OrderPartiallyDelivered, again)), nil
		}
		return httpmock.NewStringResponse(http.StatusNotFound, `{"code":404,"message":"no such route"}`), nil
	})

	p, err := c.Capture(ctxT(t), id, sek(400), paykit.IdempotencyKey("cap-1"))
	require.NoError(t, err)
	assert.Equal(t, sek(400), p.Captured)
	assert.Zero(t, posts, "the keyed DEBIT is on the order: nothing sent")
}
