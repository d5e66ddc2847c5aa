package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
)

// runECredits: create a payment, show its QR code, let the fake customer pay, receive the
// signed webhook on a local paykit.NewWebhookHandler, and print the verified, fetched payment.
func runECredits(ctx context.Context, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, "ecredits: "+format+"\n", args...) }

	// The merchant's server listens first, so that its webhook URL can go into the fake's
	// Config (eCredits takes the URL from its Portal, which the fake stands in for); the
	// handler is mounted once the client exists.
	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	defer shop.Close()
	webhookURL := shop.URL + "/webhooks/ecredits"

	fake := ecreditstest.NewServer(ecreditstest.Config{NotifyURL: webhookURL})
	defer fake.Close()
	say("fake eCredits API listening on %s", fake.URL)

	client, err := ecredits.New(ecredits.Config{
		ClientID:      ecreditstest.DefaultClientID,
		Secret:        ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret,
		BaseURL:       fake.URL, // in production: leave empty
	})
	if err != nil {
		return err
	}
	var provider paykit.Provider = client

	notified := make(chan *paykit.Notification, 1)
	mux.Handle("/webhooks/ecredits", paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		notified <- n
		return nil
	}))
	say("webhook handler listening on %s", webhookURL)

	pay, err := provider.CreatePayment(ctx, paykit.PaymentRequest{
		Amount:    paykit.Money{Amount: 9999, Currency: "EUR"}, // 99.99 EUR
		Reference: "order-1001",
	})
	if err != nil {
		return err
	}
	say("created payment %s for %s: %s", pay.ID, pay.Amount, pay.Status)
	say("show this QR code: %s", pay.Action.QRCode)
	say("or this link on the same device: %s", pay.Action.URL)
	say("expires at %s", pay.ExpiresAt.Format("15:04:05 MST"))

	hash, err := fake.Pay(pay.ID)
	if err != nil {
		return err
	}
	say("the customer scanned the code and paid: transaction %s", hash)

	select {
	case n := <-notified:
		say("webhook verified: %s %s (signature checked, redeliveries dropped)", n.PaymentID, n.Event)
		p := n.Payment
		say("payment fetched from eCredits: status %s (eCredits: %s), captured %s", p.Status, p.ProviderStatus, p.Captured)
	case <-ctx.Done():
		return fmt.Errorf("no webhook arrived: %w", ctx.Err())
	}

	// eCredits redelivers until it gets 200; a copy of a processed webhook is acknowledged
	// without running the handler again.
	if err := fake.WaitDelivered(ctx, pay.ID); err != nil {
		return err
	}
	code, err := fake.Redeliver(ctx, pay.ID)
	if err != nil {
		return err
	}
	say("the same webhook delivered again: answered %d, handler run again: %t", code, len(notified) > 0)

	_, err = provider.Refund(ctx, pay.ID, pay.Amount)
	say("refund through the API: %v", err)
	return nil
}
