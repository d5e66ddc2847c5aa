package ecstertest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// Every exported body builder gives, byte for byte, what the fake answers over HTTP for the
// same state, so that the bodies a merchant's httpmock responders use cannot drift from the
// fake (and so from what the client is tested against).
func TestBodiesAreWhatTheFakeAnswers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})

	// A cart, and its update.
	status, m, raw := call(t, srv, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, ""))
	require.Equal(t, http.StatusCreated, status)
	key := m["checkoutCart"].(map[string]any)["key"].(string)
	assert.Equal(t, string(ecstertest.CartBody(key)), string(raw), "POST /v1/carts")
	status, m, raw = call(t, srv, "PUT", "/v1/carts/"+key, cartBody("r1", 1000, oneRow, ""))
	require.Equal(t, http.StatusCreated, status)
	key = m["checkoutCart"].(map[string]any)["key"].(string)
	assert.Equal(t, string(ecstertest.CartBody(key)), string(raw), "PUT /v1/carts/{key}")

	// No order while the consumer has not completed the checkout.
	_, _, raw = call(t, srv, "GET", "/v1/orders?orderReference=r1", "")
	assert.Equal(t, string(ecstertest.OrdersBody()), string(raw), "no order yet")
	assert.Equal(t, "[]", string(ecstertest.OrdersBody()))

	// An order, found and read.
	orderID, err := srv.Pay("r1")
	require.NoError(t, err)
	o, ok := srv.Order("r1")
	require.True(t, ok)
	_, _, raw = call(t, srv, "GET", "/v1/orders/"+orderID, "")
	assert.Equal(t, string(ecstertest.OrderBody(o)), string(raw), "GET /v1/orders/{orderId}")
	_, _, raw = call(t, srv, "GET", "/v1/orders?orderReference=r1", "")
	assert.Equal(t, string(ecstertest.OrdersBody(o)), string(raw), "GET /v1/orders?orderReference=")

	// Transactions: a debit, a credit naming it, with their reference and message.
	status, _, raw = call(t, srv, "POST", "/v1/orders/"+orderID+"/transactions", `{"type":"DEBIT","amount":600,"transactionReference":"r1-DEBIT-1"}`)
	require.Equal(t, http.StatusCreated, status)
	txs := srv.Transactions("r1")
	debit := txs[len(txs)-1]
	assert.Equal(t, string(ecstertest.TransactionBody(ecster.OrderPartiallyDelivered, debit)), string(raw), "DEBIT")
	status, _, raw = call(t, srv, "POST", "/v1/orders/"+orderID+"/transactions",
		`{"type":"CREDIT","amount":100,"debitTransaction":"`+debit.ID+`","transactionReference":"r1-CREDIT-1","message":"returned"}`)
	require.Equal(t, http.StatusCreated, status)
	txs = srv.Transactions("r1")
	assert.Equal(t, string(ecstertest.TransactionBody(ecster.OrderPartiallyDelivered, txs[len(txs)-1])), string(raw), "CREDIT")

	// The order with its transactions, and a payment with two orders, oldest first.
	o, _ = srv.Order("r1")
	_, _, raw = call(t, srv, "GET", "/v1/orders/"+orderID, "")
	assert.Equal(t, string(ecstertest.OrderBody(o)), string(raw), "an order with transactions")
	call(t, srv, "POST", "/v1/carts", cartBody("r2", 500, `[{"name":"Goods","quantity":1,"unitAmount":500,"vatRate":2500}]`, ""))
	require.NoError(t, srv.Abort("r2"))
	call(t, srv, "POST", "/v1/carts", cartBody("r2", 500, `[{"name":"Goods","quantity":1,"unitAmount":500,"vatRate":2500}]`, ""))
	mustPay(t, srv, "r2")
	_, _, raw = call(t, srv, "GET", "/v1/orders?orderReference=r2", "")
	assert.Equal(t, string(ecstertest.OrdersBody(srv.Orders("r2")...)), string(raw), "two orders")

	// Errors: a state Ecster refuses (4424), an unknown order.
	status, m, raw = call(t, srv, "POST", "/v1/orders/"+orderID+"/transactions", `{"type":"DEBIT","amount":401}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, string(ecstertest.ErrorBody(status, 4424, m["message"].(string))), string(raw), "4424")
	status, m, raw = call(t, srv, "GET", "/v1/orders/NoSuchOrder", "")
	require.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, string(ecstertest.ErrorBody(status, 4040, m["message"].(string))), string(raw), "404")
}

// NewOrder makes the order the fake's Pay makes: the same fields, with its own ids and time.
func TestNewOrderIsWhatPayMakes(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	call(t, srv, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, ""))
	mustPay(t, srv, "r1")
	paid, ok := srv.Order("r1")
	require.True(t, ok)
	made := ecstertest.NewOrder("r1", paykit.Money{Amount: 1000, Currency: "SEK"}, ecster.OrderReady)

	assert.Len(t, made.ID, 20)
	require.Len(t, made.Transactions, 1)
	assert.NotEqual(t, paid.ID, made.ID)
	assert.WithinDuration(t, time.Now(), made.Created, time.Hour)
	// Ids and times aside, the two are one order.
	made.ID, made.Created = paid.ID, paid.Created
	made.Transactions[0].ID, made.Transactions[0].Created = paid.Transactions[0].ID, paid.Transactions[0].Created
	assert.Equal(t, paid, made)

	// And its body reads back as the client reads the fake's.
	var back []map[string]any
	require.NoError(t, json.Unmarshal(ecstertest.OrdersBody(made), &back))
	require.Len(t, back, 1)
	assert.Equal(t, "r1", back[0]["orderReference"])
	assert.Equal(t, "READY", back[0]["status"])
}
