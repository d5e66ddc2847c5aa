package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// runRouter: one paykit.Router over all four providers choosing by currency (SEK → Ecster,
// INR → EchelonPay, ECS → eCredits, EC → Entrecard), remembering which provider owns each
// payment, failing over when eCredits refuses a EUR payment without processing it, and one
// webhook handler for every provider's notifications.
func runRouter(ctx context.Context, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, "router: "+format+"\n", args...) }

	// The merchant's server listens first: its URLs go into the fakes' configs, and the
	// Router's one webhook handler is mounted once the Router exists.
	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	defer shop.Close()
	const oenHeader, oenValue = "X-Shop-Auth", "agreed-with-ecster"

	ecrFake := ecreditstest.NewServer(ecreditstest.Config{NotifyURL: shop.URL + "/webhooks/ecredits"})
	defer ecrFake.Close()
	entFake := entrecardtest.NewServer(entrecardtest.Config{})
	defer entFake.Close()
	echFake := echelontest.NewServer(echelontest.Config{})
	defer echFake.Close()
	ecsFake := ecstertest.NewServer(ecstertest.Config{NotificationHeader: oenHeader, NotificationHeaderValue: oenValue})
	defer ecsFake.Close()

	ecr, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: ecrFake.URL})
	if err != nil {
		return err
	}
	ent, err := entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: entFake.URL})
	if err != nil {
		return err
	}
	ech, err := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret,
		BaseURL: echFake.URL, PaymentMethod: "VAPAY", NotifySecret: "demo-notify-secret"})
	if err != nil {
		return err
	}
	ecs, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey,
		BaseURL: ecsFake.URL, ShopTermsURL: "https://shop.example/terms",
		NotificationHeader: oenHeader, NotificationHeaderValue: oenValue, NotifySecret: "demo-notify-secret"})
	if err != nil {
		return err
	}

	// The rules, tried in order. EUR has two providers: eCredits first, then EchelonPay (a
	// tenant that takes EUR is assumed here; the fake takes any ISO 4217 currency).
	router, err := paykit.NewRouter([]paykit.Provider{ecr, ent, ech, ecs}, []paykit.Route{
		{Name: "Sweden", Match: paykit.Match{Currencies: []string{"SEK"}}, Providers: []string{"ecster"}},
		{Name: "India", Match: paykit.Match{Currencies: []string{"INR"}}, Providers: []string{"echelon"}},
		{Name: "euro", Match: paykit.Match{Currencies: []string{"EUR"}}, Providers: []string{"ecredits", "echelon"}},
		{Name: "eCredits", Match: paykit.Match{Currencies: []string{"ECS"}}, Providers: []string{"ecredits"}},
		{Name: "Entrecard credits", Match: paykit.Match{Currencies: []string{"EC"}}, Providers: []string{"entrecard"}},
	})
	if err != nil {
		return err
	}
	notified := make(chan *paykit.Notification, 16)
	mux.Handle("/webhooks/", router.WebhookHandler("/webhooks", func(_ context.Context, n *paykit.Notification) error {
		notified <- n
		return nil
	}))
	// waitFor waits for the notification that shows payment id in status want.
	waitFor := func(id string, want paykit.Status) (*paykit.Notification, error) {
		for {
			select {
			case n := <-notified:
				if n.PaymentID == id && n.Payment.Status == want {
					return n, nil
				}
			case <-ctx.Done():
				return nil, fmt.Errorf("no notification of %s %s arrived: %w", id, want, ctx.Err())
			}
		}
	}
	say("one webhook handler for every provider at %s/webhooks/{provider}", shop.URL)

	type cart struct {
		name  string
		req   paykit.PaymentRequest
		pay   func(id string) error // the customer pays at the fake
		paid  paykit.Status         // the status paying gives
		fault func()                // what goes wrong first, if anything
	}
	sek := func(a int64) paykit.Money { return paykit.Money{Amount: a, Currency: "SEK"} }
	carts := []cart{
		{name: "tent from Sweden", req: paykit.PaymentRequest{Amount: sek(129900), Locale: "sv-SE",
			Items: []paykit.Item{{Name: "Tent", Quantity: 1, UnitAmount: sek(129900), VATRate: 2500}}},
			pay: func(id string) error { _, err := ecsFake.Pay(id); return err }, paid: paykit.StatusAuthorized},
		{name: "course from India", req: paykit.PaymentRequest{Amount: paykit.Money{Amount: 500000, Currency: "INR"}},
			pay: func(id string) error { _, err := echFake.Pay(id); return err }},
		{name: "e-book for eCredits", req: paykit.PaymentRequest{Amount: paykit.Money{Amount: 2500, Currency: "ECS"}},
			pay: func(id string) error { _, err := ecrFake.Pay(id); return err }},
		{name: "banner ad for Entrecard credits", req: paykit.PaymentRequest{Amount: paykit.Money{Amount: 40, Currency: "EC"}, Description: "Banner ad"},
			pay: func(id string) error { _, err := entFake.Pay(id); return err }},
		{name: "mug in euro, while eCredits is refusing creates", req: paykit.PaymentRequest{Amount: paykit.Money{Amount: 1990, Currency: "EUR"}},
			pay: func(id string) error { _, err := echFake.Pay(id); return err },
			fault: func() {
				// eCredits answers 429 to every attempt: it processed none of them.
				ecrFake.FailNext(3, http.StatusTooManyRequests, ecreditstest.OnRoute(http.MethodPost, ecreditstest.RouteRequests))
			}},
	}
	for _, c := range carts {
		// The Router puts the name of the provider that takes the payment in place of
		// {provider}: after a failover that provider notifies its own endpoint. (eCredits
		// takes no notify URL; its webhook URL is set in its portal.)
		c.req.NotifyURL = shop.URL + "/webhooks/" + paykit.NotifyPlaceholder
		cands := router.Candidates(c.req)
		c.req.ReturnURL, c.req.CancelURL = "https://shop.example/thanks", "https://shop.example/cart"
		if c.fault != nil {
			c.fault()
		}
		pay, err := router.CreatePayment(ctx, c.req)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		say("%s, %s: the rules give %s; created at %s as %s (%s)", c.name, c.req.Amount, strings.Join(cands, ", then "), pay.Provider, pay.ID, pay.Status)
		if pay.Provider != cands[0] {
			say("  %s refused without processing it (429 on every attempt) and has no such payment: failed over to %s", cands[0], pay.Provider)
		}
		if pay.Provider == "entrecard" {
			if _, err := entFake.Open(ctx, pay.Action.URL); err != nil { // the buyer follows the link
				return err
			}
		}
		if err := c.pay(pay.ID); err != nil {
			return fmt.Errorf("%s: paying: %w", c.name, err)
		}
		if c.paid == "" {
			c.paid = paykit.StatusSucceeded
		}
		n, err := waitFor(pay.ID, c.paid)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		say("  the customer paid; the %s notification from %s reached the handler: %s", n.Event, n.Provider, n.Payment.Status)
		got, err := router.GetPayment(ctx, pay.ID)
		if err != nil {
			return err
		}
		say("  GetPayment through the Router asks its owner, %s: %s, captured %s", got.Provider, got.Status, got.Captured)
		if pay.Provider == "ecster" {
			p, err := router.Capture(ctx, pay.ID, paykit.Money{})
			if err != nil {
				return err
			}
			say("  Capture through the Router goes to Ecster too: %s, captured %s", p.Status, p.Captured)
			if n, err = waitFor(pay.ID, paykit.StatusSucceeded); err != nil {
				return err
			}
			say("  and Ecster's %s notification reached the same handler", n.Event)
		}
		if pay.Provider == "ecredits" {
			_, err := router.Refund(ctx, pay.ID, paykit.Money{})
			say("  Refund through the Router reaches eCredits, which has none: unsupported %t", errors.Is(err, paykit.ErrUnsupported))
		}
	}
	return nil
}
