package entrecard_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

func ExampleClient_BuyURL() {
	c, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "s3cr3t"})
	if err != nil {
		panic(err)
	}
	link, err := c.BuyURL(entrecard.BuyRequest{
		ItemID:      "order-42",
		Description: "Two mugs, blue",
		Quantity:    2,
		Cost:        50,
		NotifyURL:   "https://shop.example/entrecard/notify?order=42&lang=sv",
		SuccessURL:  "https://shop.example/thanks?order=42",
		CancelURL:   "https://shop.example/cart?order=42",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(link)

	_, err = c.BuyURL(entrecard.BuyRequest{ItemID: "order 42"})
	fmt.Println(err)
	// Output:
	// http://entrecard.com/uapi/1/buy?seller=1001&id=order-42&description=Two+mugs%2C+blue&quantity=2&cost=50&notify=https%3A%2F%2Fshop.example%2Fentrecard%2Fnotify%3Forder%3D42%26lang%3Dsv&success=https%3A%2F%2Fshop.example%2Fthanks%3Forder%3D42&cancel=https%3A%2F%2Fshop.example%2Fcart%3Forder%3D42&signature=273cbd948e81145809cdeef5d6fb0e8c21e460d7
	// paykit: entrecard: build buy link: invalid request: item id must be 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'
}

func ExampleClient_VerifyResult() {
	c, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "s3cr3t"})
	if err != nil {
		panic(err)
	}
	// The query Entrecard appended to the notify URL, next to the merchant's own "order".
	q, _ := url.ParseQuery("order=42&seller_id=1001&id=order-42&total=100&transaction_id=100001&status=complete&signature=670ec49743b4f01d19a4462d32c97a229148d358")
	r, err := c.VerifyResult(q)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.ID, r.Total, r.TransactionID, r.Status, r.Status.PaykitStatus())

	q.Set("total", "1")
	_, err = c.VerifyResult(q)
	fmt.Println(err)
	// Output:
	// order-42 100 100001 complete succeeded
	// paykit: entrecard: verify result: invalid signature: the result's signature does not match
}

func ExampleClient_ParseRedirect() {
	c, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "s3cr3t"})
	if err != nil {
		panic(err)
	}
	// The buyer left Entrecard before a transaction existed: the cancel URL comes back bare.
	rd, err := c.ParseRedirect(context.Background(), "https://shop.example/cart?order=42")
	if err != nil {
		panic(err)
	}
	fmt.Println(rd.Result == nil, rd.Params.Get("order"))
	// Output:
	// true 42
}

func ExampleFee() {
	for _, total := range []int64{80, 100, 7} {
		fmt.Printf("total %d: Entrecard keeps %d, the seller gets %d\n", total, entrecard.Fee(total), entrecard.SellerProceeds(total))
	}
	// Output:
	// total 80: Entrecard keeps 10, the seller gets 70
	// total 100: Entrecard keeps 13, the seller gets 87
	// total 7: Entrecard keeps 1, the seller gets 6
}

// Example is a whole checkout through paykit's Provider interface, against the fake Entrecard
// over loopback HTTP.
func Example() {
	ctx := context.Background()
	fake := entrecardtest.NewServer(entrecardtest.Config{Buyers: map[string]int64{"alice": 500}})
	defer fake.Close()

	client, err := entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: fake.URL})
	if err != nil {
		panic(err)
	}
	var p paykit.Provider = client

	paid := make(chan *paykit.Notification, 1)
	hook := httptest.NewServer(paykit.NewWebhookHandler(p, func(_ context.Context, n *paykit.Notification) error {
		paid <- n
		return nil
	}))
	defer hook.Close()

	payment, err := p.CreatePayment(ctx, paykit.PaymentRequest{
		ID:          "order-1001",
		Amount:      paykit.Money{Amount: 160, Currency: "EC"},
		Description: "Banner ad, 7 days",
		NotifyURL:   hook.URL + "/notify",
		ReturnURL:   "https://shop.example/thanks",
		CancelURL:   "https://shop.example/cart",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(payment.Status, payment.Action.Type)

	// The buyer follows the link and confirms as alice (the fake opens the link the client
	// built, as the buyer's browser would).
	if err := fake.Confirm(ctx, payment.ID, "alice"); err != nil {
		panic(err)
	}
	back, _ := fake.Redirect(payment.ID)
	u, _ := url.Parse(back)
	fmt.Println("buyer returns to", u.Path, "with status", u.Query().Get("status"))

	n := <-paid
	fmt.Println(n.PaymentID, n.Event, n.Payment.Status, n.Payment.Amount)
	fmt.Println("alice has", fake.Balance("alice"), "credits; the seller got", fake.SellerBalance(entrecardtest.DefaultSellerID))
	// Output:
	// pending redirect
	// buyer returns to /thanks with status complete
	// order-1001 complete succeeded 160 EC
	// alice has 340 credits; the seller got 140
}

// Testing a merchant's own code needs no mock of HTTP: the client makes no call. A test
// creates the payment, builds the result Entrecard would deliver with entrecardtest (signed
// as Entrecard signs, exactly what the fake requests) and hands it to the notify handler, and
// to ParseRedirect as the buyer's way back.
func Example_testing() {
	ctx := context.Background()
	client, err := entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret})
	if err != nil {
		panic(err)
	}
	handler := paykit.NewWebhookHandler(client, func(_ context.Context, n *paykit.Notification) error {
		fmt.Println("fulfil", n.PaymentID, n.Payment.Status)
		return nil
	})

	payment, err := client.CreatePayment(ctx, paykit.PaymentRequest{
		ID:          "order-1001",
		Amount:      paykit.Money{Amount: 160, Currency: "EC"},
		Description: "Banner ad, 7 days",
		NotifyURL:   "https://shop.example/entrecard/notify",
		ReturnURL:   "https://shop.example/thanks",
		CancelURL:   "https://shop.example/cart",
	})
	if err != nil {
		panic(err)
	}

	result := entrecard.Result{
		SellerID: entrecardtest.DefaultSellerID, ID: payment.ID, Total: 160,
		TransactionID: "100001", Status: entrecard.ResultComplete,
	}
	for range 2 { // Entrecard's redelivery is acknowledged without running fn again
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, entrecardtest.NewResultRequest("https://shop.example/entrecard/notify", entrecardtest.DefaultSecret, result))
		fmt.Println(rec.Code)
	}

	back := entrecardtest.ResultURL("https://shop.example/thanks", entrecardtest.DefaultSecret, result)
	rd, err := client.ParseRedirect(ctx, back)
	if err != nil {
		panic(err)
	}
	fmt.Println("the buyer is back:", rd.Payment.Status, rd.Payment.Captured)

	forged := entrecardtest.NewResultRequest("https://shop.example/entrecard/notify", "guessed", result)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, forged)
	fmt.Println(rec.Code)
	// Output:
	// fulfil order-1001 succeeded
	// 200
	// 200
	// the buyer is back: succeeded 160 EC
	// 401
}
