package entrecardtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// A merchant's test of an Entrecard checkout, as it reads for every paykit fake: the
// merchant's server listens first, then come the fake, the client and the notify handler.
// The payment is created through paykit.Provider (its notify URL names the merchant's
// server), the buyer follows the buy link and pays (Pay: the fake opens the link the client
// built, as the buyer's browser would), the signed result reaches paykit.NewWebhookHandler,
// WaitDelivered waits for its 200, and GetPayment shows the payment succeeded.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// 1. The merchant's server: listening before anything else, handlers added below.
	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	defer shop.Close()

	// 2. The fake.
	srv := entrecardtest.NewServer(entrecardtest.Config{})
	defer srv.Close()

	// 3. The client, pointed at the fake, and the merchant's notify handler.
	client, err := entrecard.New(entrecard.Config{
		SellerID: entrecardtest.DefaultSellerID,
		Secret:   entrecardtest.DefaultSecret,
		BaseURL:  srv.URL,
	})
	if err != nil {
		panic(err)
	}
	var provider paykit.Provider = client
	mux.Handle("/entrecard/notify", paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		fmt.Println("result:", n.Event, "→", n.Payment.Status)
		return nil
	}))

	// 4. The checkout.
	p, err := provider.CreatePayment(ctx, paykit.PaymentRequest{
		ID:          "order-1001",
		Amount:      paykit.Money{Amount: 80, Currency: "EC"},
		Description: "Banner ad, 7 days",
		NotifyURL:   shop.URL + "/entrecard/notify",
		ReturnURL:   "https://shop.example/thanks",
		CancelURL:   "https://shop.example/cart",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", p.Status, p.Action.Type)

	if _, err := srv.Pay(p.ID); err != nil { // the buyer follows the link and pays
		panic(err)
	}
	if err := srv.WaitDelivered(ctx, p.ID); err != nil {
		panic(err)
	}
	got, err := provider.GetPayment(ctx, p.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("payment:", got.Status, got.Captured)
	back, _ := srv.Redirect(p.ID)
	u, _ := url.Parse(back)
	fmt.Println("the buyer is back at", u.Host+u.Path, "with status", u.Query().Get("status"))
	// Output:
	// created: pending redirect
	// result: complete → succeeded
	// payment: succeeded 80 EC
	// the buyer is back at shop.example/thanks with status complete
}
