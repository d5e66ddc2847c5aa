package main

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard"
)

// envKeys are the variables that configure a provider from the environment: the names
// cmd/paykit-sandbox prints, so that `set -a; . ./sandbox.env` points the shop at the sandbox.
// A provider is used when its first variable is set; its *_BASE_URL empty means production.
var envKeys = map[string][]string{
	"ecredits":  {"ECREDITS_CLIENT_ID", "ECREDITS_API_KEY", "ECREDITS_WEBHOOK_SECRET", "ECREDITS_BASE_URL"},
	"ecster":    {"ECSTER_API_KEY", "ECSTER_MERCHANT_KEY", "ECSTER_BASE_URL"},
	"echelon":   {"ECHELON_MERCHANT_CODE", "ECHELON_SECRET", "ECHELON_BASE_URL"},
	"entrecard": {"ENTRECARD_SELLER_ID", "ENTRECARD_SECRET", "ENTRECARD_BASE_URL"},
}

// FromEnv reports whether getenv configures any provider, so that main uses StartFromEnv
// instead of the in-process fakes.
func FromEnv(getenv func(string) string) bool {
	for _, keys := range envKeys {
		if getenv(keys[0]) != "" {
			return true
		}
	}
	return false
}

// StartFromEnv builds the shop over the providers the environment configures (real ones, or
// a paykit-sandbox whose env lines were sourced) instead of in-process fakes, and returns the
// names of those providers. Products priced in a currency whose provider is not configured
// cannot be bought (the Router has no route for them). When PAYKIT_SANDBOX_URL is set, the
// payment page links to the sandbox's buyer pages on each provider's base URL; otherwise it
// shows the Action as it is (a cart key for Ecster's checkout script, a token for
// EchelonPay's web app).
func StartFromEnv(base string, log *slog.Logger, getenv func(string) string) (*Shop, []string, error) {
	var providers []paykit.Provider
	var names []string
	var errs []error
	has := func(name string) bool { return getenv(envKeys[name][0]) != "" }
	if has("ecredits") {
		c, err := ecredits.New(ecredits.Config{ClientID: getenv("ECREDITS_CLIENT_ID"), Secret: getenv("ECREDITS_API_KEY"),
			WebhookSecret: getenv("ECREDITS_WEBHOOK_SECRET"), BaseURL: getenv("ECREDITS_BASE_URL")})
		providers, names, errs = append(providers, c), append(names, "ecredits"), append(errs, err)
	}
	if has("ecster") {
		c, err := ecster.New(ecster.Config{APIKey: getenv("ECSTER_API_KEY"), MerchantKey: getenv("ECSTER_MERCHANT_KEY"),
			BaseURL: getenv("ECSTER_BASE_URL"), ShopTermsURL: base + "/"})
		providers, names, errs = append(providers, c), append(names, "ecster"), append(errs, err)
	}
	if has("echelon") {
		c, err := echelon.New(echelon.Config{MerchantCode: getenv("ECHELON_MERCHANT_CODE"), Secret: getenv("ECHELON_SECRET"),
			BaseURL: getenv("ECHELON_BASE_URL")})
		providers, names, errs = append(providers, c), append(names, "echelon"), append(errs, err)
	}
	if has("entrecard") {
		c, err := entrecard.New(entrecard.Config{SellerID: getenv("ENTRECARD_SELLER_ID"), Secret: getenv("ENTRECARD_SECRET"),
			BaseURL: getenv("ENTRECARD_BASE_URL")})
		providers, names, errs = append(providers, c), append(names, "entrecard"), append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if len(providers) == 0 {
		return nil, nil, errors.New("no provider is configured in the environment")
	}
	var routes []paykit.Route
	for _, r := range shopRoutes() {
		if slicesContains(names, r.Providers[0]) {
			routes = append(routes, r)
		}
	}
	router, err := paykit.NewRouter(providers, routes, paykit.WithRouterLogger(log))
	if err != nil {
		return nil, nil, err
	}
	var links Links
	if getenv("PAYKIT_SANDBOX_URL") != "" {
		links = sandboxLinks(getenv)
	}
	return NewShop(router, base, links, log), names, nil
}

// sandboxLinks are the buyer pages a paykit-sandbox serves on each provider's base URL.
func sandboxLinks(getenv func(string) string) Links {
	page := func(baseKey, path string, q url.Values) string {
		return strings.TrimSuffix(getenv(baseKey), "/") + path + "?" + q.Encode()
	}
	var l Links
	if getenv("ECSTER_BASE_URL") != "" {
		l.EcsterCheckout = func(key, ret string) string {
			return page("ECSTER_BASE_URL", ecstertest.PathCheckout, url.Values{"key": {key}, "return": {ret}})
		}
	}
	if getenv("ECHELON_BASE_URL") != "" {
		l.EchelonWebApp = func(token, callback, ret string) string {
			return page("ECHELON_BASE_URL", echelontest.PathWebApp, url.Values{"token": {token}, "callback": {callback}, "return": {ret}})
		}
	}
	if getenv("ECREDITS_BASE_URL") != "" {
		l.ECreditsWallet = func(id, ret string) string {
			return page("ECREDITS_BASE_URL", ecreditstest.PathWallet, url.Values{"code": {id}, "return": {ret}})
		}
	}
	return l
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
