package ecster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// A checkout through the paykit.Provider interface, against the fake Ecster: a cart, the
// consumer completes the checkout, the OEN reaches paykit.NewWebhookHandler, then a partial
// capture, the rest, and a partial refund.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The merchant's server listens first, so that the OEN URL exists.
	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	defer shop.Close()

	fake := ecstertest.NewServer(ecstertest.Config{NotificationHeader: "X-Shop-Auth", NotificationHeaderValue: "agreed-with-ecster"})
	defer fake.Close()

	client, err := ecster.New(ecster.Config{
		APIKey:                  ecstertest.DefaultAPIKey,
		MerchantKey:             ecstertest.DefaultMerchantKey,
		BaseURL:                 fake.URL, // empty: ecster.ProductionURL
		ShopTermsURL:            "https://shop.example/terms",
		NotificationHeader:      "X-Shop-Auth",
		NotificationHeaderValue: "agreed-with-ecster",
	})
	if err != nil {
		panic(err)
	}
	var p paykit.Provider = client
	oens := make(chan string, 16)
	mux.Handle("/oen", paykit.NewWebhookHandler(p, func(_ context.Context, n *paykit.Notification) error {
		oens <- fmt.Sprint("OEN ", n.Event, ": ", n.Payment.Status)
		return nil
	}))

	pay, err := p.CreatePayment(ctx, paykit.PaymentRequest{
		ID:     "order-1001",
		Amount: paykit.Money{Amount: 100000, Currency: "SEK"}, // 1 000 SEK
		Items: []paykit.Item{
			{Reference: "TV-55", Name: "TV", Quantity: 1, UnitAmount: paykit.Money{Amount: 80000, Currency: "SEK"}, VATRate: 2500},
			{Reference: "HDMI", Name: "HDMI cable", Quantity: 2, UnitAmount: paykit.Money{Amount: 10000, Currency: "SEK"}, VATRate: 2500},
		},
		NotifyURL: shop.URL + "/oen",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", pay.Status, pay.Action.Type, pay.Action.Token != "")

	if _, err := fake.Pay(pay.ID); err != nil { // the consumer completes the checkout
		panic(err)
	}
	fmt.Println(<-oens)

	pay, err = p.Capture(ctx, pay.ID, paykit.Money{Amount: 80000, Currency: "SEK"}) // the TV ships
	if err != nil {
		panic(err)
	}
	fmt.Println("captured:", pay.Captured, pay.Status)
	pay, _ = p.Capture(ctx, pay.ID, paykit.Money{}) // the rest
	fmt.Println("captured:", pay.Captured, pay.Status)
	pay, _ = p.Refund(ctx, pay.ID, paykit.Money{Amount: 10000, Currency: "SEK"}) // one cable back
	fmt.Println("refunded:", pay.Refunded, pay.Status, pay.ProviderStatus)
	// Output:
	// created: pending client_token true
	// OEN CREATED: authorized
	// captured: 800.00 SEK partially_captured
	// captured: 1000.00 SEK succeeded
	// refunded: 100.00 SEK partially_refunded FULLY_DELIVERED
}

// Amounts that exceed what remains are refused before anything is sent; an order Ecster
// does not let debit answers 4424.
func ExampleClient_Capture_errors() {
	ctx := context.Background()
	fake := ecstertest.NewServer(ecstertest.Config{})
	defer fake.Close()
	client, _ := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL})

	pay, _ := client.CreatePayment(ctx, paykit.PaymentRequest{
		ID:     "order-1002",
		Amount: paykit.Money{Amount: 5000, Currency: "SEK"},
		Items:  []paykit.Item{{Name: "Book", Quantity: 1, UnitAmount: paykit.Money{Amount: 5000, Currency: "SEK"}, VATRate: 600}},
	})
	_ = fake.CompleteCheckout(pay.ID, ecster.OrderPendingDecision)

	_, err := client.Capture(ctx, pay.ID, paykit.Money{Amount: 6000, Currency: "SEK"})
	fmt.Println(errors.Is(err, paykit.ErrInvalidRequest))
	_, err = client.Capture(ctx, pay.ID, paykit.Money{})
	var pe *paykit.Error
	errors.As(err, &pe)
	fmt.Println(errors.Is(err, paykit.ErrUnprocessable), pe.Code)
	// Output:
	// true
	// true 4424
}

// A capture made once with an operation key: its answer is lost and the order cannot be read
// to tell whether it happened, so the call returns an error. The merchant repeats it with the
// same key, here from a new Client (a restart): the debit is found on the order and nothing is
// sent again. One debit.
func ExampleClient_Capture_idempotencyKey() {
	ctx := context.Background()
	fake := ecstertest.NewServer(ecstertest.Config{})
	defer fake.Close()
	cfg := ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL}
	fast := paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})
	client, _ := ecster.New(cfg, fast)

	pay, _ := client.CreatePayment(ctx, paykit.PaymentRequest{
		ID:     "order-1003",
		Amount: paykit.Money{Amount: 5000, Currency: "SEK"},
		Items:  []paykit.Item{{Name: "Lamp", Quantity: 1, UnitAmount: paykit.Money{Amount: 5000, Currency: "SEK"}, VATRate: 2500}},
	})
	_, _ = fake.Pay(pay.ID)

	// The key names the capture the merchant means; store it with the shipment first.
	key := paykit.IdempotencyKey("shipment-77")
	fake.DropNext(1, ecstertest.OnRoute(http.MethodPost, ecstertest.RouteTransactions))
	fake.FailNext(3, http.StatusServiceUnavailable, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrder))
	_, err := client.Capture(ctx, pay.ID, paykit.Money{Amount: 2000, Currency: "SEK"}, key)
	fmt.Println("first call:", errors.Is(err, paykit.ErrUnavailable))

	restarted, _ := ecster.New(cfg, fast)
	pay, err = restarted.Capture(ctx, pay.ID, paykit.Money{Amount: 2000, Currency: "SEK"}, key)
	fmt.Println("repeat:", err, pay.Captured, pay.Status)
	debits := 0
	for _, tx := range fake.Transactions(pay.ID) {
		if tx.Type == ecster.TransactionDebit {
			debits++
			fmt.Println(tx.TransactionReference == ecster.TransactionReference(pay.ID, ecster.TransactionDebit, "shipment-77"))
		}
	}
	fmt.Println("debits:", debits)

	// The same key for another amount is a conflict, with nothing sent.
	_, err = restarted.Capture(ctx, pay.ID, paykit.Money{Amount: 3000, Currency: "SEK"}, key)
	fmt.Println(errors.Is(err, paykit.ErrConflict))
	// Output:
	// first call: true
	// repeat: <nil> 20.00 SEK partially_captured
	// true
	// debits: 1
	// true
}

// Ecster's data types validate before anything is sent.
func ExampleParseNationalID() {
	id, err := ecster.ParseNationalID("se530516-9756")
	fmt.Println(id, err)
	_, err = ecster.ParseNationalID("SE531316-9756")
	fmt.Println(err)
	l, _ := ecster.ParseLocale("SV-se")
	fmt.Println(l, l.Language, l.Country)
	t := ecster.Tag("product:TV")
	fmt.Println(t.Typed(), t.Name(), t.Value())
	fmt.Println(ecster.Percent(670))
	// Output:
	// SE530516-9756 <nil>
	// a Swedish national id must hold a real month and day
	// sv-SE sv SE
	// true product TV
	// 6.70%
}

// Part-payment terms come as localized terms, ready to show.
func ExampleClient_PartPaymentTerms() {
	fake := ecstertest.NewServer(ecstertest.Config{})
	defer fake.Close()
	client, _ := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL})

	terms, err := client.PartPaymentTerms(context.Background(), ecster.TermsQuery{Locale: "sv-SE", Nationality: "SE", Amount: 1200000, Currency: "SEK"})
	if err != nil {
		panic(err)
	}
	for _, id := range []string{ecster.TermStartFee, ecster.TermPerMonth} {
		t, _ := terms.Term(id)
		fmt.Println(t)
	}
	// Output:
	// Uppläggningsavgift: 395 kr
	// Per månad: 1062 kr
}

// The transaction reference of a keyed operation: the payment id, the type and a digest of
// the key, the same in every process, so that a repeat finds it on the order.
func ExampleTransactionReference() {
	fmt.Println(ecster.TransactionReference("order-1001", ecster.TransactionDebit, "capture-order-1001-1"))
	// Output: order-1001-DEBIT-k04d5edcd7e21fd53
}
