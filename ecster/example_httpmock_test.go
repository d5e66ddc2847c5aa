package ecster_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// Testing with httpmock: a merchant's unit test mocks Ecster's API instead of running the
// fake. The client gets an *http.Client of the test's own, which httpmock intercepts (after
// New is fine: the client uses that *http.Client as given at every request, so nothing
// reaches the network), and the responders answer ecstertest's bodies: exactly what the
// fake answers, which is what this package is tested against.
func Example_httpmock() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hc := &http.Client{}
	client, err := ecster.New(ecster.Config{APIKey: "test-api-key", MerchantKey: "test-merchant-key", BaseURL: ecster.SandboxURL},
		paykit.WithHTTPClient(hc))
	if err != nil {
		panic(err)
	}
	httpmock.ActivateNonDefault(hc)
	defer httpmock.DeactivateNonDefault(hc)
	defer httpmock.Reset()
	orders := ecster.SandboxURL + "/v1/orders" // the search; httpmock matches it whatever the query

	// The checkout: no order yet, and a cart.
	httpmock.RegisterResponder(http.MethodGet, orders, httpmock.NewBytesResponder(http.StatusOK, ecstertest.OrdersBody()))
	httpmock.RegisterResponder(http.MethodPost, ecster.SandboxURL+"/v1/carts",
		httpmock.NewBytesResponder(http.StatusCreated, ecstertest.CartBody("cart-key-1")))
	sek := func(a int64) paykit.Money { return paykit.Money{Amount: a, Currency: "SEK"} }
	p, err := client.CreatePayment(ctx, paykit.PaymentRequest{
		ID:     "order-1001",
		Amount: sek(49900),
		Items:  []paykit.Item{{Name: "Jacket", Quantity: 1, UnitAmount: sek(49900), VATRate: 2500}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", p.Status, p.Action.Type, p.Action.Token)
	p, err = client.GetPayment(ctx, p.ID) // still no order: pending, as created
	if err != nil {
		panic(err)
	}
	fmt.Println("before the checkout:", p.Status, p.Action.Token)

	// The consumer completed the checkout: the search answers the order.
	order := ecstertest.NewOrder("order-1001", sek(49900), ecster.OrderReady)
	httpmock.RegisterResponder(http.MethodGet, orders, httpmock.NewBytesResponder(http.StatusOK, ecstertest.OrdersBody(order)))
	p, err = client.GetPayment(ctx, "order-1001")
	if err != nil {
		panic(err)
	}
	fmt.Println("after the checkout:", p.Status, p.ProviderStatus, p.Amount)

	// A capture: Ecster answers the DEBIT it recorded.
	debit := ecster.Transaction{ID: "debit-1", Type: ecster.TransactionDebit, Created: time.Now(), Amount: 49900}
	httpmock.RegisterResponder(http.MethodPost, ecster.SandboxURL+"/v1/orders/"+order.ID+"/transactions",
		httpmock.NewBytesResponder(http.StatusCreated, ecstertest.TransactionBody(ecster.OrderFullyDelivered, debit)))
	p, err = client.Capture(ctx, "order-1001", paykit.Money{})
	if err != nil {
		panic(err)
	}
	fmt.Println("captured:", p.Status, p.Captured)
	fmt.Println("requests mocked:", httpmock.GetTotalCallCount())
	// Output:
	// created: pending client_token cart-key-1
	// before the checkout: pending cart-key-1
	// after the checkout: authorized READY 499.00 SEK
	// captured: succeeded 499.00 SEK
	// requests mocked: 6
}
