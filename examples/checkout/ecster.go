package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// runEcster: create a cart, let the fake consumer complete Ecster's checkout, receive the
// OEN on a local paykit.NewWebhookHandler, then capture part of the order, the rest, and
// refund part of it, printing the payment after each step. Ecster stopped taking new orders
// on 2023-05-01: its fake is how an integration is exercised now.
func runEcster(ctx context.Context, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, "ecster: "+format+"\n", args...) }
	show := func(step string, p *paykit.Payment) {
		say("%s: status %s (Ecster: %s), captured %s, refunded %s", step, p.Status, p.ProviderStatus, p.Captured, p.Refunded)
	}

	// The custom header every OEN carries, agreed with Ecster; the handler refuses OENs
	// without it.
	const header, value = "X-Shop-Auth", "agreed-with-ecster"
	fake := ecstertest.NewServer(ecstertest.Config{NotificationHeader: header, NotificationHeaderValue: value})
	defer fake.Close()
	say("fake Ecster API listening on %s (Ecster itself stopped taking new orders on 2023-05-01)", fake.URL)

	client, err := ecster.New(ecster.Config{
		APIKey:                  ecstertest.DefaultAPIKey,
		MerchantKey:             ecstertest.DefaultMerchantKey,
		BaseURL:                 fake.URL, // in production: leave empty
		ShopTermsURL:            "https://shop.example/terms",
		NotificationHeader:      header,
		NotificationHeaderValue: value,
		NotifySecret:            "demo-notify-secret", // signs the OEN URL of each cart
	})
	if err != nil {
		return err
	}
	var provider paykit.Provider = client

	// The merchant's OEN endpoint: OENs are unsigned signals, so the handler checks the
	// header and the signed URL, fetches the order, and runs the function once per event.
	notified := make(chan *paykit.Notification, 16)
	webhook := httptest.NewServer(paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		notified <- n
		return nil
	}))
	defer webhook.Close()
	say("OEN handler listening on %s", webhook.URL)

	sek := func(a int64) paykit.Money { return paykit.Money{Amount: a, Currency: "SEK"} }
	pay, err := provider.CreatePayment(ctx, paykit.PaymentRequest{
		Amount: sek(129900), // 1 299.00 SEK
		Items: []paykit.Item{
			{Reference: "TENT-2P", Name: "Tent, 2 persons", Quantity: 1, UnitAmount: sek(99900), VATRate: 2500},
			{Reference: "MAT-1", Name: "Sleeping mat", Quantity: 2, UnitAmount: sek(15000), VATRate: 2500},
		},
		NotifyURL: webhook.URL + "/oen/ecster?shop=demo",
		Locale:    "sv-SE",
	})
	if err != nil {
		return err
	}
	say("created payment %s for %s: %s; hand cart key %s to Ecster's checkout script", pay.ID, pay.Amount, pay.Status, pay.Action.Token)

	if _, err := fake.Pay(pay.ID); err != nil {
		return err
	}
	say("the consumer completed the checkout (invoice, approved)")
	select {
	case n := <-notified:
		say("OEN %s checked (header, signed URL) and the order fetched", n.Event)
		show("after the OEN", n.Payment)
	case <-ctx.Done():
		return fmt.Errorf("no OEN arrived: %w", ctx.Err())
	}

	// Each operation carries a key the shop stored with the shipment or the return before
	// calling: repeating it (after a timeout, a crash, from another replica) acts at most once.
	p, err := provider.Capture(ctx, pay.ID, sek(99900), paykit.IdempotencyKey("shipment-1"))
	if err != nil {
		return err
	}
	show("the tent shipped, 999.00 SEK captured (key shipment-1)", p)

	// A restart: a new client that remembers nothing repeats the capture with the same key.
	// It reads the order, finds the key's DEBIT there, and sends nothing.
	restarted, err := ecster.New(ecster.Config{
		APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL,
		ShopTermsURL: "https://shop.example/terms", NotificationHeader: header, NotificationHeaderValue: value,
		NotifySecret: "demo-notify-secret",
	})
	if err != nil {
		return err
	}
	if p, err = restarted.Capture(ctx, pay.ID, sek(99900), paykit.IdempotencyKey("shipment-1")); err != nil {
		return err
	}
	show("shipment-1 repeated after a restart: nothing sent, still", p)
	_, err = restarted.Capture(ctx, pay.ID, sek(100), paykit.IdempotencyKey("shipment-1"))
	say("the same key with another amount: conflict %t, nothing sent", errors.Is(err, paykit.ErrConflict))

	if p, err = provider.Capture(ctx, pay.ID, paykit.Money{}, paykit.IdempotencyKey("shipment-2")); err != nil {
		return err
	}
	show("the mats shipped, the rest captured (key shipment-2)", p)
	if p, err = provider.Refund(ctx, pay.ID, sek(15000), paykit.IdempotencyKey("return-1")); err != nil {
		return err
	}
	show("one mat returned, 150.00 SEK refunded (key return-1)", p)

	if err := fake.WaitDelivered(ctx, pay.ID); err != nil {
		return err
	}
	say("Ecster sent %d OENs, all answered 200; the handler function ran %d times, once per payment state it fetched", len(fake.Deliveries()), 1+len(notified))
	refs := []string{}
	for _, tx := range fake.Transactions(pay.ID) {
		if tx.TransactionReference != "" {
			refs = append(refs, string(tx.Type)+" "+tx.TransactionReference)
		}
	}
	say("transactions on the order: %v", refs)
	return nil
}
