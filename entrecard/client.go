package entrecard

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/paykit/paykit"
)

// DefaultBaseURL is the Payments API address of Entrecard's document. It is plain http
// because that is the documented address; the SDK never calls it (it only appears in the buy
// links the buyer's browser follows), so paykit's https rule for called URLs does not apply.
const DefaultBaseURL = "http://entrecard.com/uapi/1"

// ProviderName is the name in Payment.Provider and Notification.Provider.
const ProviderName = "entrecard"

// redactedText replaces a secret wherever a value is printed.
const redactedText = "[REDACTED]"

// Config holds a seller's Entrecard credentials. It prints without its secret.
type Config struct {
	// SellerID is the seller's Entrecard id (the number shown on the user's page). It is
	// sent as "seller" in buy links and must come back as "seller_id" in results.
	SellerID string
	// Secret is the Seller Secret (the Payments API key), known only to the seller and
	// Entrecard. It signs buy links and verifies results.
	Secret string
	// BaseURL is where buy links point; empty means DefaultBaseURL. Tests point it at an
	// entrecardtest server.
	BaseURL string
	// Store remembers what CreatePayment asked for and the verified results; nil means a
	// new in-memory store (NewMemoryStore), which serves one process and forgets on restart.
	Store Store
}

// String prints c with its secret redacted, so %v and %+v of a Config are safe to log.
func (c Config) String() string {
	secret := `""`
	if c.Secret != "" {
		secret = redactedText
	}
	store := "nil"
	if c.Store != nil {
		store = fmt.Sprintf("%T", c.Store)
	}
	return fmt.Sprintf("entrecard.Config{SellerID:%q Secret:%s BaseURL:%q Store:%s}", c.SellerID, secret, c.BaseURL, store)
}

// GoString is String, so %#v is safe too.
func (c Config) GoString() string { return c.String() }

// Client builds signed buy links and verifies Entrecard's results for one seller; it is also
// the paykit.Provider for Entrecard. It makes no network calls. It is safe for concurrent use.
type Client struct {
	sellerID string
	secret   string
	base     string
	store    Store
	log      *slog.Logger
}

// String describes the client without its secret: fmt would otherwise print the unexported
// fields of a *Client, secret included.
func (c *Client) String() string {
	return fmt.Sprintf("entrecard.Client{SellerID:%q BaseURL:%q}", c.sellerID, c.base)
}

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// New returns a client for cfg. The options are paykit's shared ones; they are checked even
// though Entrecard's client sends nothing, so that a configuration mistake shows up the same
// way for every provider. Only WithLogger has an effect: it logs, at debug level, results
// recorded and redelivered (never a signature).
func New(cfg Config, opts ...paykit.Option) (*Client, error) {
	const op = "new client"
	settings, err := paykit.NewSettings(opts...)
	if err != nil {
		return nil, &paykit.Error{Provider: ProviderName, Op: op, Kind: paykit.ErrInvalidRequest, Err: err}
	}
	if cfg.SellerID == "" || cfg.Secret == "" {
		return nil, errorf(op, paykit.ErrInvalidRequest, "SellerID and Secret are required")
	}
	if strings.ContainsFunc(cfg.SellerID, isControlOrSpace) {
		return nil, errorf(op, paykit.ErrInvalidRequest, "SellerID holds a space or a control character")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(base, "?#") {
		return nil, errorf(op, paykit.ErrInvalidRequest, "BaseURL must be an absolute http(s) URL without query or fragment")
	}
	store := cfg.Store
	if store == nil {
		store = NewMemoryStore()
	}
	log := settings.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		sellerID: cfg.SellerID,
		secret:   cfg.Secret,
		base:     strings.TrimRight(base, "/"),
		store:    store,
		log:      log.With("provider", ProviderName),
	}, nil
}

// SellerID returns the seller id the client signs for.
func (c *Client) SellerID() string { return c.sellerID }

// BaseURL returns the address buy links point to, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// now is swappable so tests can fix CreatedAt.
var now = time.Now

// errorf builds a *paykit.Error of the entrecard provider.
func errorf(op string, kind error, format string, args ...any) *paykit.Error {
	return &paykit.Error{Provider: ProviderName, Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// withOp sets the provider and op of an error from the root package's checks; the root makes
// a fresh error per call, so changing it in place is safe.
func withOp(err error, op string) error {
	var pe *paykit.Error
	if errors.As(err, &pe) {
		pe.Provider, pe.Op = ProviderName, op
	}
	return err
}

func isControlOrSpace(r rune) bool { return r <= ' ' || r == 0x7f }
