package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// runEntrecard: create a payment, print its signed buy link, let the fake buyer confirm on
// the fake Entrecard, receive the signed result on a local paykit.NewWebhookHandler, and
// print the verified and the fetched payment.
func runEntrecard(ctx context.Context, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, "entrecard: "+format+"\n", args...) }

	const buyer = "alice"
	fake := entrecardtest.NewServer(entrecardtest.Config{Buyers: map[string]int64{buyer: 1000}})
	defer fake.Close()
	say("fake Entrecard listening on %s", fake.URL)

	client, err := entrecard.New(entrecard.Config{
		SellerID: entrecardtest.DefaultSellerID,
		Secret:   entrecardtest.DefaultSecret,
		BaseURL:  fake.URL, // in production: leave empty for http://entrecard.com/uapi/1
	})
	if err != nil {
		return err
	}
	var provider paykit.Provider = client

	// The merchant's notify endpoint. Entrecard sends the result again and again until it
	// answers 200; the handler verifies it and runs the function once.
	notified := make(chan *paykit.Notification, 1)
	webhook := httptest.NewServer(paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		select {
		case notified <- n:
		default:
		}
		return nil
	}))
	defer webhook.Close()
	say("notify handler listening on %s", webhook.URL)

	pay, err := provider.CreatePayment(ctx, paykit.PaymentRequest{
		Amount:      paykit.Money{Amount: 80, Currency: "EC"},
		Description: "Banner ad, 7 days",
		Items:       []paykit.Item{{Name: "Banner ad day", Quantity: 2, UnitAmount: paykit.Money{Amount: 40, Currency: "EC"}}},
		NotifyURL:   webhook.URL + "/entrecard/notify?shop=demo",
		ReturnURL:   "https://shop.example/thanks?order=1002",
		CancelURL:   "https://shop.example/cart?order=1002",
	})
	if err != nil {
		return err
	}
	say("created payment %s for %s: %s, no network call made", pay.ID, pay.Amount, pay.Status)
	say("send the buyer to the signed buy link: %s", pay.Action.URL)

	page, err := fake.Open(ctx, pay.Action.URL)
	if err != nil {
		return err
	}
	say("the buyer sees: %q, %d × %d credits = %d, seller %s", page.Description, page.Quantity, page.Cost, page.Total, page.SellerID)

	if err := fake.Confirm(ctx, pay.ID, buyer); err != nil {
		return err
	}
	back, _ := fake.Redirect(pay.ID)
	say("the buyer confirmed and is redirected to %s", back)

	var n *paykit.Notification
	select {
	case n = <-notified:
	case <-ctx.Done():
		return fmt.Errorf("no result arrived: %w", ctx.Err())
	}
	say("result verified: payment %s, status word %q (signature and total checked)", n.PaymentID, n.Event)
	p := n.Payment
	say("payment fetched: status %s (Entrecard: %s), amount %s, captured %s, transaction %s", p.Status, p.ProviderStatus, p.Amount, p.Captured, p.ProviderID)
	say("balances: %s has %d credits left, the seller received %d (87.5 %%), Entrecard kept %d",
		buyer, fake.Balance(buyer), fake.SellerBalance(entrecardtest.DefaultSellerID), fake.Fees())

	// A replayed result is acknowledged without running the function again.
	if err := fake.WaitDelivered(ctx, pay.ID); err != nil {
		return err
	}
	code, err := fake.Redeliver(ctx, pay.ID)
	if err != nil {
		return err
	}
	say("the same result delivered again: answered %d, handler run again: %t", code, len(notified) > 0)

	got, err := provider.GetPayment(ctx, pay.ID)
	if err != nil {
		return err
	}
	say("GetPayment(%s): %s, captured %s", got.ID, got.Status, got.Captured)

	_, err = provider.Refund(ctx, pay.ID, pay.Amount)
	say("refund through the API: %v", err)
	return nil
}
