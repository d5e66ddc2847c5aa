package ecstertest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// A merchant's test of an Ecster checkout, as it reads for every paykit fake: the
// merchant's server listens first, so that its OEN URL can go into the fake's Config;
// then come the fake, the client and the webhook handler. The payment is created through
// paykit.Provider, the consumer completes the checkout through a control method, the OEN
// reaches paykit.NewWebhookHandler, WaitDelivered waits for its 200, and GetPayment shows
// the payment authorized, ready to capture.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// 1. The merchant's server: listening before anything else, handlers added below.
	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	defer shop.Close()

	// 2. The fake, with the custom OEN header agreed with Ecster.
	srv := ecstertest.NewServer(ecstertest.Config{
		NotifyURL:               shop.URL + "/oen/ecster", // for carts that name none
		NotificationHeader:      "X-Shop-Auth",
		NotificationHeaderValue: "agreed-with-ecster",
	})
	defer srv.Close()

	// 3. The client, pointed at the fake, and the merchant's OEN handler.
	client, err := ecster.New(ecster.Config{
		APIKey:                  ecstertest.DefaultAPIKey,
		MerchantKey:             ecstertest.DefaultMerchantKey,
		BaseURL:                 srv.URL,
		NotificationHeader:      "X-Shop-Auth",
		NotificationHeaderValue: "agreed-with-ecster",
	})
	if err != nil {
		panic(err)
	}
	var provider paykit.Provider = client
	mux.Handle("/oen/ecster", paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		fmt.Println("OEN:", n.Event, "→", n.Payment.Status)
		return nil
	}))

	// 4. The checkout.
	p, err := provider.CreatePayment(ctx, paykit.PaymentRequest{
		Amount:    paykit.Money{Amount: 49900, Currency: "SEK"},
		Items:     []paykit.Item{{Name: "Jacket", Quantity: 1, UnitAmount: paykit.Money{Amount: 49900, Currency: "SEK"}, VATRate: 2500}},
		NotifyURL: shop.URL + "/oen/ecster",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", p.Status, p.Action.Type)

	if _, err := srv.Pay(p.ID); err != nil { // the consumer completes the checkout
		panic(err)
	}
	if err := srv.WaitDelivered(ctx, p.ID); err != nil {
		panic(err)
	}
	got, err := provider.GetPayment(ctx, p.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("payment:", got.Status, got.ProviderStatus, got.Amount)
	// Output:
	// created: pending client_token
	// OEN: CREATED → authorized
	// payment: authorized READY 499.00 SEK
}

// Testing an OEN endpoint without a server: NewOENRequest builds what Ecster posts.
func ExampleNewOENRequest() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Println(r.Header.Get("X-Shop-Auth"), string(bytes.TrimSpace(b)))
	})
	req := ecstertest.NewOENRequest("/oen/ecster", ecstertest.OEN{
		OrderID: "zburxHFw0xQmyOmVOrcq", OrderReference: "order-1001", Status: "READY", Time: "2019-02-07T12:27:28Z", Event: "CREATED",
	}, "X-Shop-Auth", "agreed-with-ecster")
	handler.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// agreed-with-ecster {"orderId":"zburxHFw0xQmyOmVOrcq","orderReference":"order-1001","status":"READY","time":"2019-02-07T12:27:28Z","event":"CREATED"}
}
