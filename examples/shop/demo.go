package main

import (
	"errors"
	"log/slog"

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

// Demo is the shop over the four in-process fakes.
type Demo struct {
	Shop      *Shop
	ECredits  *ecreditstest.Server
	Ecster    *ecstertest.Server
	Echelon   *echelontest.Server
	Entrecard *entrecardtest.Server
}

// FakeInfo names a fake and its URL.
type FakeInfo struct{ Name, URL string }

// Fakes lists the fakes' base URLs.
func (d *Demo) Fakes() []FakeInfo {
	return []FakeInfo{{"ecredits", d.ECredits.URL}, {"ecster", d.Ecster.URL}, {"echelon", d.Echelon.URL}, {"entrecard", d.Entrecard.URL}}
}

// Close stops the fakes.
func (d *Demo) Close() {
	d.ECredits.Close()
	d.Ecster.Close()
	d.Echelon.Close()
	d.Entrecard.Close()
}

// StartDemo starts the four fakes and the shop that is reached at base (the shop's server
// must listen there: the fakes send their notifications to base/webhooks/{provider}).
func StartDemo(base string, log *slog.Logger) (*Demo, error) {
	d := &Demo{
		// eCredits has no per-payment notify URL: its webhook URL is set in its portal.
		ECredits:  ecreditstest.NewServer(ecreditstest.Config{NotifyURL: base + "/webhooks/ecredits"}),
		Ecster:    ecstertest.NewServer(ecstertest.Config{}),
		Echelon:   echelontest.NewServer(echelontest.Config{}),
		Entrecard: entrecardtest.NewServer(entrecardtest.Config{}),
	}
	ecr, err1 := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: d.ECredits.URL})
	ent, err2 := entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: d.Entrecard.URL})
	// No PaymentMethod: the web-app flow, whose Action is a token for EchelonPay's web app.
	ech, err3 := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: d.Echelon.URL})
	ecs, err4 := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey,
		BaseURL: d.Ecster.URL, ShopTermsURL: base + "/"})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		d.Close()
		return nil, err
	}
	router, err := paykit.NewRouter([]paykit.Provider{ecr, ent, ech, ecs}, shopRoutes(), paykit.WithRouterLogger(log))
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Shop = NewShop(router, base, Links{
		EcsterCheckout: d.Ecster.CheckoutURL,
		EchelonWebApp:  d.Echelon.WebAppURL,
		ECreditsWallet: d.ECredits.WalletURL,
	}, log)
	return d, nil
}

// shopRoutes are the shop's rules: the cart's currency picks the provider.
func shopRoutes() []paykit.Route {
	return []paykit.Route{
		{Name: "Sweden", Match: paykit.Match{Currencies: []string{"SEK"}}, Providers: []string{"ecster"}},
		{Name: "India", Match: paykit.Match{Currencies: []string{"INR"}}, Providers: []string{"echelon"}},
		{Name: "euro", Match: paykit.Match{Currencies: []string{"EUR"}}, Providers: []string{"ecredits"}},
		{Name: "eCredits", Match: paykit.Match{Currencies: []string{"ECS"}}, Providers: []string{"ecredits"}},
		{Name: "Entrecard credits", Match: paykit.Match{Currencies: []string{"EC"}}, Providers: []string{"entrecard"}},
	}
}
