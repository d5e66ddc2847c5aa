package echelon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/idlock"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/notifyurl"
	perrs "github.com/paykit/paykit/internal/perr"
	"github.com/paykit/paykit/internal/ratelimit"
	"github.com/paykit/paykit/internal/safeprint"
	"github.com/paykit/paykit/internal/token"
	"github.com/paykit/paykit/internal/transport"
)

// The EchelonPay API hosts. The production host is not published: it is an ASSUMPTION made
// from the sandbox's, and white-label tenants of the platform have hosts of their
// own; set Config.BaseURL to the one the merchant's contract names.
const (
	ProductionURL = "https://api.echelonpay.com"
	SandboxURL    = "https://api.sandbox.echelonpay.com"
)

// apiVersion is the major API version every request asks for (X-API-Version). A request
// without it, or with a version the platform does not serve, is answered 404.
const apiVersion = "2"

// Throttling: EchelonPay processes at most rateLimit requests in any rateWindow and answers
// 429 to the others.
const (
	rateLimit  = 10
	rateWindow = time.Second
)

// rateMargin widens the default limiter's window to absorb the network's jitter between a
// start at the client and its arrival at EchelonPay (see internal/ratelimit): 10 starts in
// any 1.04 s still sustain 9.6 requests/s.
const rateMargin = 40 * time.Millisecond

// Config holds a merchant's EchelonPay credentials and choices. It prints without its secrets
// (%v, %+v, %#v, log/slog, and JSON, which is for logs: the secrets do not survive it).
type Config struct {
	// MerchantCode is the Merchant ID from the merchant back-office.
	MerchantCode string
	// Secret is the Merchant Secret key from the back-office. It buys the tokens every call
	// carries; it never leaves the backend.
	Secret string `paykit:"secret"`
	// BaseURL is the API host; empty means ProductionURL. SandboxURL is the test host.
	BaseURL string
	// PaymentMethod is the paymentMethodCode CreatePayment uses (e.g. "VAPAY"): the payin is
	// created directly. Empty: the web-app flow, where CreatePayment hands back a restricted
	// token for EchelonPay's payment web app, which lets the customer choose.
	PaymentMethod string
	// PaymentOperator is the paymentOperatorCode CreatePayment uses (optional).
	PaymentOperator string
	// NotifySecret, when set, signs the callback URLs the SDK sends (paykit_id and
	// paykit_sig in their query) and makes ParseNotification and PayoutWebhookHandler refuse
	// a callback whose URL is not signed, before anything is fetched. EchelonPay does not
	// sign its callbacks: without it they are unauthenticated signals, still safe because
	// only the fetched state is trusted, but each one costs a request of the merchant's
	// 10 per second.
	NotifySecret string `paykit:"secret"`
}

// String prints c with its secrets redacted, so %v and %+v of a Config are safe to log.
func (c Config) String() string { return safeprint.String(c) }

// GoString is String, so %#v is safe too.
func (c Config) GoString() string { return safeprint.String(c) }

// LogValue prints c for log/slog with its secrets redacted.
func (c Config) LogValue() slog.Value { return safeprint.LogValue(c) }

// MarshalJSON writes c with its secrets redacted, for JSON logs.
func (c Config) MarshalJSON() ([]byte, error) { return safeprint.JSON(c) }

// Client is an EchelonPay client: the native API (NewToken, PaymentOptions, CreatePayin,
// GetPayin, CreatePayout, GetPayout, Balances, PayoutWebhookHandler) and the paykit.Provider
// adapter. It is safe for concurrent use. It prints without its secrets, also as a value
// (fmt.Sprintf("%#v", *c)): the printing methods have value receivers and every verb goes
// through them, and the fields hold the secrets only behind pointers, which fmt does not
// follow inside a value (a Client in another struct's unexported field, printed with %v,
// shows addresses).
type Client struct {
	cfg    *Config
	http   *transport.Client
	tokens *token.Source
	hooks  *paykit.Hooks // paykit.WithHooks, or nil
	signer *notifyurl.Signer
	// locks serialises the creates of one payin (CreatePayment, CreatePayin) or one payout
	// (CreatePayout) in this client. A pointer, so that a Client value holds no lock (go
	// vet's copylocks).
	locks *idlock.Locks
	// webApp remembers the web-app payments this client created until EchelonPay knows
	// them, so that GetPayment answers them pending (nil for a Client not made by New).
	webApp *webAppMemory
}

// String prints the client's configuration without its secrets.
func (c Client) String() string { return safeprint.Client("echelon.Client", c.config()) }

// GoString is String, so %#v is safe too.
func (c Client) GoString() string { return c.String() }

// Format prints the client with String (GoString for %#v) whatever the verb, so that no verb
// (%d, %x, ...) reaches the fields and their secrets.
func (c Client) Format(f fmt.State, verb rune) { safeprint.Format(f, verb, c.String()) }

// LogValue prints the client for log/slog without its secrets.
func (c Client) LogValue() slog.Value { return safeprint.ClientLogValue(c.config()) }

// config is the client's Config; the zero Config for a Client not made by New.
func (c Client) config() Config {
	if c.cfg == nil {
		return Config{}
	}
	return *c.cfg
}

// perr names this package's errors.
const perr = perrs.For(ProviderName)

// NewID returns a new payment id that EchelonPay takes as idPayin or idPayout (a lowercase
// dashed UUID, which the document recommends). Store it with the order before calling
// CreatePayment, so that a create whose answer was lost can be repeated with the same id
// instead of creating a second payin.
func NewID() string { return ids.UUID() }

// New returns a client for cfg. It sends nothing: the first call fetches the backend token.
//
// Unless paykit.WithLimiter (or WithRateLimit) gives another, the client waits on a limiter
// that lets at most 10 requests start in any second, token requests included, shared by every
// client of the same merchant (BaseURL and MerchantCode) in the process.
func New(cfg Config, opts ...paykit.Option) (*Client, error) {
	settings, err := paykit.NewSettings(opts...)
	if err != nil {
		return nil, perr.Wrap("new client", paykit.ErrInvalidRequest, err, "")
	}
	if cfg.MerchantCode == "" || cfg.Secret == "" {
		return nil, perr.Errorf("new client", paykit.ErrInvalidRequest, "MerchantCode and Secret are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = ProductionURL
	}
	signer := notifyurl.New(cfg.NotifySecret)
	c := &Client{cfg: &cfg, signer: &signer, locks: new(idlock.Locks), webApp: newWebAppMemory(webAppMemorySize), hooks: settings.Hooks}
	c.tokens = token.NewSource(c.fetchBackendToken)
	tc := transport.Config{
		Provider: ProviderName,
		BaseURL:  cfg.BaseURL,
		Headers:  map[string]string{"X-API-Version": apiVersion},
		Settings: settings,
		Auth:     c.tokens,
		Secrets:  []string{cfg.Secret, cfg.NotifySecret},
	}
	if settings.Limiter == nil {
		// Checked here so that an invalid BaseURL is refused by transport.New below before a
		// limiter is registered for it.
		if err := transport.CheckBaseURL(cfg.BaseURL); err == nil {
			tc.DefaultLimiter = merchantLimiter(cfg.BaseURL, cfg.MerchantCode)
		}
	}
	c.http, err = transport.New(tc)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// limiters holds the default limiter of each merchant (base URL and merchant code) in the
// process: EchelonPay counts a merchant's requests, whichever client sends them. A merchant
// stays in the map for the life of the process; there is one per merchant code used.
var limiters struct {
	mu sync.Mutex
	m  map[limiterKey]*ratelimit.Limiter
}

type limiterKey struct{ baseURL, merchant string }

// merchantLimiter returns the default limiter of a merchant, making it on first use.
func merchantLimiter(baseURL, merchant string) *ratelimit.Limiter {
	key := limiterKey{strings.TrimRight(baseURL, "/"), merchant}
	limiters.mu.Lock()
	defer limiters.mu.Unlock()
	if l, ok := limiters.m[key]; ok {
		return l
	}
	l, err := ratelimit.New(rateLimit, rateWindow, ratelimit.WithMargin(rateMargin))
	if err != nil {
		// The arguments are constants that New accepts.
		panic("echelon: " + err.Error())
	}
	if limiters.m == nil {
		limiters.m = make(map[limiterKey]*ratelimit.Limiter)
	}
	limiters.m[key] = l
	return l
}

// backendTokenValidity is how long the backend token asks to live: the document's example
// value. The token is refreshed min(60 s, a tenth of it) before it ends.
const backendTokenValidity = 600 * time.Second

// backendOperations are the calls the SDK makes, as the regular expressions EchelonPay
// matches against "METHOD /path" (the whole string, the path without its query). An id
// segment is escaped by the SDK and never holds a slash.
var backendOperations = []string{
	"POST /payins/!availablePaymentOptions",
	"POST /payins/[^/]+",
	"GET /payins/[^/]+",
	"POST /payouts/[^/]+",
	"GET /payouts/[^/]+",
	"GET /balances",
}

func (c *Client) fetchBackendToken(ctx context.Context) (token.Token, error) {
	t, err := c.newToken(ctx, "get backend token", TokenRequest{Operations: backendOperations, Validity: backendTokenValidity})
	if err != nil {
		return token.Token{}, err
	}
	return token.Token{Value: t.Value, ExpiresAt: t.ExpiresAt}, nil
}
