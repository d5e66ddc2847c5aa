package ecstertest

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
)

// The bodies below are exactly what the fake answers (its own answers are built by the same
// code, and a test compares them with its HTTP answers), for a merchant's unit tests that
// mock Ecster's API with httpmock or an http.RoundTripper of their own instead of running
// the fake: register a responder with the status the route's comment names and one of these
// as its body. See the ecster package's "Testing with httpmock".

// CartBody is the answer to POST /v1/carts and PUT /v1/carts/{key}, status 201 Created:
// {"checkoutCart":{"key":key}}.
func CartBody(key string) []byte {
	var a cartAnswer
	a.CheckoutCart.Key = key
	return mustJSON(a)
}

// OrderBody is the answer to GET /v1/orders/{orderId}, status 200: o as Ecster writes an
// order (times with their offset in CET, +01:00, as the fake writes them; transactions as an
// array, empty when o has none). NewOrder makes an order as the fake's Pay does.
func OrderBody(o ecster.Order) []byte { return mustJSON(orderJSONOf(o)) }

// OrdersBody is the answer to GET /v1/orders?orderReference=…, status 200: a JSON array of
// the orders, oldest first (as given). With none it is [], Ecster's answer while the consumer
// has not completed the checkout.
func OrdersBody(orders ...ecster.Order) []byte {
	out := make([]orderJSON, 0, len(orders))
	for _, o := range orders {
		out = append(out, orderJSONOf(o))
	}
	return mustJSON(out)
}

// TransactionBody is the answer to POST /v1/orders/{orderId}/transactions, status 201
// Created: the order's status after the transaction, and the transaction t.
func TransactionBody(status ecster.OrderStatus, t ecster.Transaction) []byte {
	return mustJSON(transactionAnswer{OrderStatus: string(status), Transaction: transactionJSONOf(t)})
}

// ErrorBody is Ecster's error object, {code, type, message}, as the fake answers it with
// HTTP status: e.g. ErrorBody(422, 4424, "Order is not in a valid state.") for an operation
// the order's state does not allow (paykit.ErrUnprocessable), ErrorBody(404, 4040, "…") for
// an unknown order. The type is the one the fake gives that status.
func ErrorBody(status, code int, message string) []byte {
	return mustJSON(errorObject(status, code, message))
}

// NewOrder returns the order the fake's Pay makes of a payment's cart: a new 20-character
// order id, DefaultMerchantID, created now, an invoice (INVOICE_SE_1) of amount, the
// consumer "Test Testsson" with DefaultNationalID, and the INITIAL transaction of its amount;
// status is the status Ecster gave it (ecster.OrderReady for an approved invoice). Change
// what a test needs (debits, credits, transactions) and give it to OrderBody or OrdersBody.
func NewOrder(paymentID string, amount paykit.Money, status ecster.OrderStatus) ecster.Order {
	now := time.Now()
	return ecster.Order{
		ID: randomID(20), MerchantID: DefaultMerchantID, Status: status, Created: now,
		Amount: ecster.Amount(amount.Amount), Currency: amount.Currency, OrderReference: paymentID,
		Properties: ecster.OrderProperties{Method: ecster.MethodInvoice, Submethod: "INVOICE_SE_1"},
		Consumer:   defaultConsumer(),
		Transactions: []ecster.Transaction{
			{ID: randomID(20), Type: ecster.TransactionInitial, Created: now, Amount: ecster.Amount(amount.Amount)},
		},
	}
}

// defaultConsumer is the consumer of orders whose cart named none.
func defaultConsumer() *ecster.Consumer {
	return &ecster.Consumer{NationalID: DefaultNationalID, Name: &ecster.Name{FirstName: "Test", LastName: "Testsson"}}
}

func orderJSONOf(o ecster.Order) orderJSON {
	out := orderJSON{
		ID: o.ID, MerchantID: o.MerchantID, Status: string(o.Status), Created: ecster.FormatTimestamp(o.Created.In(stockholm)),
		Amount: int64(o.Amount), Currency: o.Currency, DebitedAmount: int64(o.DebitedAmount), CreditedAmount: int64(o.CreditedAmount),
		OrderReference: o.OrderReference, Properties: propertiesJSON{Method: o.Properties.Method, Submethod: o.Properties.Submethod},
		Consumer:     o.Consumer,
		Transactions: make([]transactionJSON, 0, len(o.Transactions)),
	}
	for _, t := range o.Transactions {
		out.Transactions = append(out.Transactions, transactionJSONOf(t))
	}
	return out
}

func transactionJSONOf(t ecster.Transaction) transactionJSON {
	return transactionJSON{ID: t.ID, Type: string(t.Type), Created: ecster.FormatTimestamp(t.Created.In(stockholm)), Amount: int64(t.Amount),
		TransactionReference: t.TransactionReference, DebitTransaction: t.DebitTransaction, Message: t.Message}
}

func errorObject(status, code int, message string) ecsterError {
	typ, ok := errorTypes[status]
	if !ok {
		typ = http.StatusText(status)
	}
	return ecsterError{Code: code, Type: typ, Message: message}
}

// mustJSON marshals a value of the fake's answer types, which always marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value the fake answers with marshals; reaching this is a bug of the fake.
		panic("ecstertest: marshal answer: " + err.Error())
	}
	return b
}
