package soak_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
	"github.com/paykit/paykit/internal/fakeserver"
)

// The provider names, as Provider.Name gives them.
const (
	nameECredits  = ecredits.ProviderName
	nameEntrecard = "entrecard"
	nameEchelon   = echelon.ProviderName
	nameEcster    = ecster.ProviderName
)

var providerNames = []string{nameECredits, nameEntrecard, nameEchelon, nameEcster}

// Secrets of the merchant's side; the fakes' credentials are their defaults.
const (
	notifySecret = "soak-notify-secret"
	oenHeader    = "X-Shop-Auth"
	oenValue     = "soak-agreed-with-ecster"
	poorBuyer    = "poor" // an Entrecard buyer with no credits: a confirm fails
)

// clientTimeout bounds one HTTP attempt of every client. The chaos makes some answers
// slower than this (latencySpike), so some attempts time out while the fake waits: the
// call was not processed, but the client cannot know that.
const (
	clientTimeout = 500 * time.Millisecond
	latencySpike  = 700 * time.Millisecond
)

// world is everything the soak runs: the four fakes, their clients behind one Router, the
// merchant's web server with the Router's webhook handler, and what the merchant's
// function saw.
type world struct {
	ecr *ecreditstest.Server
	ent *entrecardtest.Server
	ech *echelontest.Server
	ecs *ecstertest.Server

	router *paykit.Router
	shop   *httptest.Server
	hooks  *recorder
	faults map[string]*fakeserver.Controls
	stats  *stats

	entrecardByItem map[string][]entrecardtest.Transaction // built by reconcile

	// fn is the merchant's function as the webhook handler runs it: hooks.fn, wrapped by
	// worldOptions.wrap.
	fn func(context.Context, *paykit.Notification) error

	// keyed makes every capture, refund and cancel carry an operation key (TestSoakKeyed).
	keyed bool
	// newEcster makes a new ecster Client for the same fake and merchant: the merchant's
	// process after a restart, which remembers nothing but the keys it stored.
	newEcster func() (*ecster.Client, error)
}

// noLimit is a Limiter that never waits: the soak lifts EchelonPay's 10 requests per
// second in the fake (echelontest.NoRateLimit) and in the client, or the limit alone would
// make 5,000 payments take most of an hour.
type noLimit struct{}

func (noLimit) Wait(ctx context.Context) error { return ctx.Err() }

// newWorld starts the merchant's server, the fakes (which notify it), the clients and the
// Router, and closes them all when t ends.
func newWorld(t *testing.T, modes ...worldOptions) *world {
	t.Helper()
	var o worldOptions
	if len(modes) > 0 {
		o = modes[0]
	}
	w := &world{hooks: newRecorder(), stats: newStats()}

	// The merchant's server listens first, so its URLs can go into the fakes' configs.
	mux := http.NewServeMux()
	w.shop = httptest.NewServer(mux)
	t.Cleanup(w.shop.Close)
	hook := func(name string) string { return w.shop.URL + "/webhooks/" + name }

	// Notifications are retried quickly and for long: faults and the merchant's failing
	// function answer some of them 5xx, and the soak waits for every one to be delivered.
	const minWait, maxWait, attempts = 2 * time.Millisecond, 40 * time.Millisecond, 1000
	w.ecr = ecreditstest.NewServer(ecreditstest.Config{
		NotifyURL:    hook(nameECredits),
		RetryMinWait: minWait, RetryMaxWait: maxWait, MaxDeliveryAttempts: attempts,
	})
	w.ent = entrecardtest.NewServer(entrecardtest.Config{
		Buyers:       map[string]int64{entrecardtest.DefaultBuyer: 1 << 50, poorBuyer: 0},
		RetryMinWait: minWait, RetryMaxWait: maxWait, MaxDeliveryAttempts: attempts,
	})
	w.ech = echelontest.NewServer(echelontest.Config{
		RateLimit:    echelontest.NoRateLimit,
		RetryMinWait: minWait, RetryMaxWait: maxWait, MaxDeliveryAttempts: attempts,
	})
	w.ecs = ecstertest.NewServer(ecstertest.Config{
		NotificationHeader: oenHeader, NotificationHeaderValue: oenValue,
		RetryMinWait: minWait, RetryMaxWait: maxWait, MaxDeliveryAttempts: attempts,
	})
	// Closed before the merchant's server (cleanups run last first), so that no delivery
	// is still on its way to it.
	t.Cleanup(w.ecr.Close)
	t.Cleanup(w.ent.Close)
	t.Cleanup(w.ech.Close)
	t.Cleanup(w.ecs.Close)
	w.faults = map[string]*fakeserver.Controls{
		nameECredits: w.ecr.Controls, nameEntrecard: w.ent.Controls,
		nameEchelon: w.ech.Controls, nameEcster: w.ecs.Controls,
	}

	opts := []paykit.Option{
		paykit.WithTimeout(clientTimeout),
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond}),
	}
	ecr, err := ecredits.New(ecredits.Config{
		ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: w.ecr.URL,
	}, opts...)
	require.NoError(t, err)
	ent, err := entrecard.New(entrecard.Config{
		SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: w.ent.URL,
	}, opts...)
	require.NoError(t, err)
	ech, err := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: w.ech.URL,
		PaymentMethod: echelontest.MethodVirtualAccount, NotifySecret: notifySecret,
	}, append(opts, paykit.WithLimiter(noLimit{}))...)
	require.NoError(t, err)
	w.newEcster = func() (*ecster.Client, error) {
		return ecster.New(ecster.Config{
			APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: w.ecs.URL,
			ShopTermsURL: "https://shop.example/terms", NotificationHeader: oenHeader, NotificationHeaderValue: oenValue,
			NotifySecret: notifySecret,
		}, opts...)
	}
	ecs, err := w.newEcster()
	require.NoError(t, err)

	w.router, err = paykit.NewRouter([]paykit.Provider{ecr, ent, ech, ecs}, soakRoutes(), o.router...)
	require.NoError(t, err)
	w.fn = w.hooks.fn
	if o.wrap != nil {
		w.fn = o.wrap(w.fn)
	}
	mux.Handle("/webhooks/", w.router.WebhookHandler("/webhooks", w.fn, o.webhook...))
	return w
}

// soakRoutes are the merchant's rules. No two of these providers take the same currency in
// the documents (Ecster SEK; EchelonPay INR, IDR and USD in its examples, from a currency
// list that "may grow"; eCredits ECS and EUR; Entrecard its credits), so the one rule with
// two providers is EUR: eCredits first, then EchelonPay, on the ASSUMPTION of an EchelonPay
// tenant that takes EUR (its fake takes any ISO 4217 currency). The payment fails over
// when eCredits refuses a create without processing it (429 after the retries).
func soakRoutes() []paykit.Route {
	return []paykit.Route{
		{Name: "Sweden", Match: paykit.Match{Currencies: []string{"SEK"}}, Providers: []string{nameEcster}},
		{Name: "India and Indonesia", Match: paykit.Match{Currencies: []string{"INR", "IDR"}}, Providers: []string{nameEchelon}},
		{Name: "euro", Match: paykit.Match{Currencies: []string{"EUR"}}, Providers: []string{nameECredits, nameEchelon}},
		{Name: "eCredits", Match: paykit.Match{Currencies: []string{"ECS"}}, Providers: []string{nameECredits}},
		{Name: "Entrecard credits", Match: paykit.Match{Currencies: []string{entrecard.Currency}}, Providers: []string{nameEntrecard}},
	}
}

// call is one run of the merchant's function.
type call struct {
	Provider, PaymentID, Event, DedupKey string
	State                                string // paykit.PaymentStateKey of the fetched payment
	Status                               paykit.Status
	PaymentProvider                      string // Notification.Payment.Provider
	Failed                               bool   // the function returned an error (500)
}

// recorder is the merchant's one function behind the Router's webhook handler: it records
// every call, and fails a few of them on purpose so that providers deliver again.
type recorder struct {
	mu    sync.Mutex
	calls []call
	fail  func() bool
}

func newRecorder() *recorder { return &recorder{fail: func() bool { return false }} }

func (r *recorder) fn(_ context.Context, n *paykit.Notification) error {
	c := call{Provider: n.Provider, PaymentID: n.PaymentID, Event: n.Event, DedupKey: n.DedupKey}
	if n.Payment != nil {
		c.State, c.Status, c.PaymentProvider = paykit.PaymentStateKey(n.Payment), n.Payment.Status, n.Payment.Provider
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c.Failed = r.fail()
	r.calls = append(r.calls, c)
	if c.Failed {
		return errFnFailed
	}
	return nil
}

func (r *recorder) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

type fnError struct{}

func (fnError) Error() string { return "the merchant's function failed (on purpose)" }

var errFnFailed error = fnError{}
