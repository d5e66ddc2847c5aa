package main

import (
	"bytes"
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

	fake := ecreditstest.NewServer(ecreditstest.Config{})
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

	// The merchant's webhook endpoint. eCredits takes its URL from the Portal, which the
	// fake stands in for.
	notified := make(chan *paykit.Notification, 1)
	webhook := httptest.NewServer(paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		notified <- n
		return nil
	}))
	defer webhook.Close()
	fake.SetWebhookURL(webhook.URL)
	say("webhook handler listening on %s", webhook.URL)

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
	resp, err := http.Post(webhook.URL, "application/json", bytes.NewReader(fake.Deliveries()[0].Body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	say("the same webhook delivered again: answered %d, handler run again: %t", resp.StatusCode, len(notified) > 0)

	_, err = provider.Refund(ctx, pay.ID, pay.Amount)
	say("refund through the API: %v", err)
	return nil
}
