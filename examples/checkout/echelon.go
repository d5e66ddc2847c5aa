package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

// runEchelon: a direct payin through the unified interface (the customer pays by bank
// transfer to a virtual account), its unsigned callback received on a local
// paykit.NewWebhookHandler with a signed callback URL, and one payout through the native API.
func runEchelon(ctx context.Context, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, "echelon: "+format+"\n", args...) }

	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()
	say("fake EchelonPay API listening on %s (at most 10 requests per second, 429 past that)", fake.URL)

	client, err := echelon.New(echelon.Config{
		MerchantCode:  echelontest.DefaultMerchantCode,
		Secret:        echelontest.DefaultSecret,
		BaseURL:       fake.URL, // in production: leave empty, or echelon.SandboxURL
		PaymentMethod: "VAPAY",  // a direct payin; empty: a token for EchelonPay's payment web app
		// EchelonPay does not sign its callbacks: paykit signs the callback URLs it sends
		// and refuses a callback without the signature before fetching anything.
		NotifySecret: "demo-notify-secret",
	})
	if err != nil {
		return err
	}
	var provider paykit.Provider = client

	// The merchant's callback endpoints: payins through the unified handler, payouts through
	// the native one. Both fetch what changed and run the function once per state.
	payins := make(chan *paykit.Payment, 4)
	payouts := make(chan *echelon.Payout, 4)
	mux := http.NewServeMux()
	mux.Handle("/callbacks/echelon", paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		payins <- n.Payment
		return nil
	}))
	mux.Handle("/callbacks/echelon/payouts", client.PayoutWebhookHandler(func(_ context.Context, p *echelon.Payout) error {
		payouts <- p
		return nil
	}))
	webhook := httptest.NewServer(mux)
	defer webhook.Close()
	say("callback handlers listening on %s", webhook.URL)

	pay, err := provider.CreatePayment(ctx, paykit.PaymentRequest{
		Amount:    paykit.Money{Amount: 500000, Currency: "INR"}, // 5000 INR
		NotifyURL: webhook.URL + "/callbacks/echelon?shop=demo",
	})
	if err != nil {
		return err
	}
	say("created payin %s for %s: %s (EchelonPay: %s)", pay.ID, pay.Amount, pay.Status, pay.ProviderStatus)
	payin, err := client.GetPayin(ctx, pay.ID)
	if err != nil {
		return err
	}
	say("the customer transfers to %s account %s quoting %s", payin.Account.BankName, payin.Account.AccountNumber, payin.Reference)
	if p, ok := fake.Payin(pay.ID); ok {
		if u, err := url.Parse(p.CallbackURL); err == nil {
			q := u.Query()
			say("callback URL sent: %s with shop=%s, paykit_id=%s and a paykit_sig", u.Path, q.Get("shop"), q.Get("paykit_id"))
		}
	}

	if _, err := fake.Pay(pay.ID); err != nil {
		return err
	}
	say("the customer paid")
	select {
	case p := <-payins:
		say("callback received, payin fetched: %s (EchelonPay: %s), captured %s", p.Status, p.ProviderStatus, p.Captured)
	case <-ctx.Done():
		return fmt.Errorf("no callback arrived: %w", ctx.Err())
	}

	// A forged callback, without the signature, is refused before anything is fetched.
	resp, err := http.Post(webhook.URL+"/callbacks/echelon", "application/json", strings.NewReader(`{"idPayin":"`+pay.ID+`"}`))
	if err != nil {
		return err
	}
	resp.Body.Close()
	say("a forged callback: answered %d", resp.StatusCode)

	again, err := provider.CreatePayment(ctx, paykit.PaymentRequest{ID: pay.ID, Amount: pay.Amount})
	if err != nil {
		return err
	}
	say("CreatePayment repeated with the same id: %s, way to pay offered: %t", again.Status, again.Action != nil)

	// A payout through the native API.
	out1, err := client.CreatePayout(ctx, echelon.PayoutRequest{
		ID:            echelon.NewID(),
		Amount:        paykit.Money{Amount: 120000, Currency: "INR"}, // 1200 INR
		Method:        "BANK_TRANSFER",
		Operator:      "BNK_000",
		AccountName:   "Asha Rao",
		AccountNumber: "001234567890",
		Email:         "asha@example.com",
		CallbackURL:   webhook.URL + "/callbacks/echelon/payouts",
	})
	if err != nil {
		return err
	}
	say("created payout %s of %s (fee %s): %s", out1.ID, out1.Amount, out1.Fee, out1.Status)
	if _, err := fake.Pay(out1.ID); err != nil {
		return err
	}
	select {
	case p := <-payouts:
		say("payout callback received, payout fetched: %s (EchelonPay: %s)", p.Status, p.ProviderStatus)
	case <-ctx.Done():
		return fmt.Errorf("no payout callback arrived: %w", ctx.Err())
	}

	balances, err := client.Balances(ctx, "INR")
	if err != nil {
		return err
	}
	for _, b := range balances {
		say("balance: %s", b.Amount)
	}

	_, err = provider.Refund(ctx, pay.ID, pay.Amount)
	say("refund through the API: %v", err)
	return nil
}
