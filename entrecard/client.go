package entrecard

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
	perrs "github.com/paykit/paykit/internal/perr"
	"github.com/paykit/paykit/internal/safeprint"
)

// DefaultBaseURL is the Payments API address of Entrecard's document. It is plain http
// because that is the documented address; the SDK never calls it (it only appears in the buy
// links the buyer's browser follows), so paykit's https rule for called URLs does not apply.
const DefaultBaseURL = "http://entrecard.com/uapi/1"

// ProviderName is the name in Payment.Provider and Notification.Provider.
const ProviderName = "entrecard"

// Config holds a seller's Entrecard credentials. It prints without its secret (%v, %+v,
// %#v, log/slog, and JSON, which is for logs: the secret does not survive it).
type Config struct {
	// SellerID is the seller's Entrecard id (the number shown on the user's page). It is
	// sent as "seller" in buy links and must come back as "seller_id" in results.
	SellerID string
	// Secret is the Seller Secret (the Payments API key), known only to the seller and
	// Entrecard. It signs buy links and verifies results.
	Secret string `paykit:"secret"`
	// BaseURL is where buy links point; empty means DefaultBaseURL. Tests point it at an
	// entrecardtest server.
	BaseURL string
	// Store remembers what CreatePayment asked for and the verified results; nil means a
	// new in-memory store (NewMemoryStore), which serves one process, forgets on restart, and
	// forgets a payment DefaultRetention (30 days) after the last order or result recorded
	// for it.
	Store Store
}

// String prints c with its secret redacted, so %v and %+v of a Config are safe to log.
func (c Config) String() string { return safeprint.String(c) }

// GoString is String, so %#v is safe too.
func (c Config) GoString() string { return safeprint.String(c) }

// LogValue prints c for log/slog with its secret redacted.
func (c Config) LogValue() slog.Value { return safeprint.LogValue(c) }

// MarshalJSON writes c with its secret redacted, for JSON logs.
func (c Config) MarshalJSON() ([]byte, error) { return safeprint.JSON(c) }

// Client builds signed buy links and verifies Entrecard's results for one seller; it is also
// the paykit.Provider for Entrecard. It makes no network calls. It is safe for concurrent use.
// It prints without its secret, also as a value (fmt.Sprintf("%#v", *c)): the printing
// methods have value receivers and every verb goes through them, and the secret is held only
// behind a pointer, which fmt does not follow inside a value (a Client in another struct's
// unexported field, printed with %v, shows an address).
type Client struct {
	cfg   *Config // SellerID, Secret, BaseURL (without a trailing slash) and Store as used
	store Store
	log   *slog.Logger
	hooks *paykit.Hooks // paykit.WithHooks, or nil
	// host is BaseURL's host:port, under which links are reported to the entrecardtest fakes
	// of this process (internal/buylinks).
	host string
}

// String prints the client's configuration without its secret.
func (c Client) String() string { return safeprint.Client("entrecard.Client", c.config()) }

// GoString is String, so %#v is safe too.
func (c Client) GoString() string { return c.String() }

// Format prints the client with String (GoString for %#v) whatever the verb, so that no verb
// (%d, %x, ...) reaches the fields and the secret.
func (c Client) Format(f fmt.State, verb rune) { safeprint.Format(f, verb, c.String()) }

// LogValue prints the client for log/slog without its secret.
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

// NewID returns a new payment id that Entrecard takes as an item id (32 lowercase hex
// digits). Store it with the order before calling CreatePayment.
func NewID() string { return ids.Hex32() }

// New returns a client for cfg. The options are paykit's shared ones; they are checked even
// though Entrecard's client sends nothing, so that a configuration mistake shows up the same
// way for every provider. Only WithLogger has an effect: it logs, at debug level, results
// recorded and redelivered (never a signature).
func New(cfg Config, opts ...paykit.Option) (*Client, error) {
	const op = "new client"
	settings, err := paykit.NewSettings(opts...)
	if err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "")
	}
	if cfg.SellerID == "" || cfg.Secret == "" {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "SellerID and Secret are required")
	}
	if strings.ContainsFunc(cfg.SellerID, isControlOrSpace) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "SellerID holds a space or a control character")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(base, "?#") {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "BaseURL must be an absolute http(s) URL without query or fragment")
	}
	store := cfg.Store
	if store == nil {
		store = NewMemoryStore()
	}
	log := settings.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL, cfg.Store = strings.TrimRight(base, "/"), store
	return &Client{cfg: &cfg, store: store, log: log.With("provider", ProviderName), host: u.Host, hooks: settings.Hooks}, nil
}

// SellerID returns the seller id the client signs for.
func (c *Client) SellerID() string { return c.config().SellerID }

// BaseURL returns the address buy links point to, without a trailing slash.
func (c *Client) BaseURL() string { return c.config().BaseURL }

// secret is the Seller Secret; "" for a Client not made by New, which then signs and
// verifies nothing.
func (c *Client) secret() string { return c.config().Secret }

// now is swappable so tests can fix CreatedAt.
var now = time.Now

func isControlOrSpace(r rune) bool { return r <= ' ' || r == 0x7f }
