package ecredits

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/idlock"
	"github.com/paykit/paykit/internal/ids"
	perrs "github.com/paykit/paykit/internal/perr"
	"github.com/paykit/paykit/internal/safeprint"
	"github.com/paykit/paykit/internal/signature"
	"github.com/paykit/paykit/internal/token"
	"github.com/paykit/paykit/internal/transport"
)

// The eCredits Widget API hosts.
const (
	ProductionURL = "https://widget.api.ecredits.com"
	SandboxURL    = "https://widget.api.tst.ecredits.com"
)

// Config holds a merchant's eCredits credentials. It prints without its secrets (%v, %+v,
// %#v, log/slog, and JSON, which is for logs: the secrets do not survive it).
type Config struct {
	// ClientID is the GUID of the business that receives the funds.
	ClientID string
	// Secret is the API key created in the eCredits Portal (Web Widget).
	Secret string `paykit:"secret"`
	// WebhookSecret is the signing secret configured with the webhook in the Portal.
	WebhookSecret string `paykit:"secret"`
	// BaseURL is the API host; empty means ProductionURL. SandboxURL is the test host.
	BaseURL string
	// TestMode sets testMode on every request created: it is paid on the eSync testnet, with
	// no real funds. The host still comes from BaseURL only.
	TestMode bool
}

// String prints c with its secrets redacted, so %v and %+v of a Config are safe to log.
func (c Config) String() string { return safeprint.String(c) }

// GoString is String, so %#v is safe too.
func (c Config) GoString() string { return safeprint.String(c) }

// LogValue prints c for log/slog with its secrets redacted.
func (c Config) LogValue() slog.Value { return safeprint.LogValue(c) }

// MarshalJSON writes c with its secrets redacted, for JSON logs.
func (c Config) MarshalJSON() ([]byte, error) { return safeprint.JSON(c) }

// Client is an eCredits Widget API client: the native API (CreateRequest, GetRequest,
// Payments, Paid, WaitPaid, VerifyWebhook) and the paykit.Provider adapter. It is safe for
// concurrent use. It prints without its secrets, also as a value (fmt.Sprintf("%#v", *c)):
// the printing methods have value receivers and every verb goes through them, and the fields
// hold the secrets only behind pointers, which fmt does not follow inside a value (a Client
// in another struct's unexported field, printed with %v, shows addresses).
type Client struct {
	cfg    *Config
	http   *transport.Client
	tokens *token.Source
	hooks  *paykit.Hooks // paykit.WithHooks, or nil
	// webhook verifies webhooks under Config.WebhookSecret; nil when there is none, and then
	// every webhook is refused: an empty key would verify signatures anyone can make.
	webhook *signature.HMACSHA256
	// locks serialises CreatePayment per payment id (canonical, lower case) in this client.
	// A pointer, so that a Client value holds no lock (go vet's copylocks).
	locks *idlock.Locks
}

// String prints the client's configuration without its secrets.
func (c Client) String() string { return safeprint.Client("ecredits.Client", c.config()) }

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

// NewID returns a new payment id that eCredits takes (a lowercase dashed GUID). Store it
// with the order before calling CreatePayment, so that a create whose answer was lost can be
// repeated with the same id instead of creating a second request.
func NewID() string { return ids.UUID() }

// New returns a client for cfg. It sends nothing: the first call authenticates.
func New(cfg Config, opts ...paykit.Option) (*Client, error) {
	settings, err := paykit.NewSettings(opts...)
	if err != nil {
		return nil, perr.Wrap("new client", paykit.ErrInvalidRequest, err, "")
	}
	if cfg.ClientID == "" || cfg.Secret == "" {
		return nil, perr.Errorf("new client", paykit.ErrInvalidRequest, "ClientID and Secret are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = ProductionURL
	}
	c := &Client{cfg: &cfg, locks: new(idlock.Locks), hooks: settings.Hooks}
	if cfg.WebhookSecret != "" {
		c.webhook = signature.NewHMACSHA256([]byte(cfg.WebhookSecret))
	}
	c.tokens = token.NewSource(c.fetchToken)
	c.http, err = transport.New(transport.Config{
		Provider: ProviderName,
		BaseURL:  cfg.BaseURL,
		Settings: settings,
		Auth:     c.tokens,
		Secrets:  []string{cfg.Secret, cfg.WebhookSecret},
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AuthToken is a bearer token from POST /api/authentication.
type AuthToken struct {
	Token     string
	ExpiresAt time.Time
}

// String hides the token itself.
func (t AuthToken) String() string {
	return "ecredits.AuthToken{Token:" + transport.Redacted + " ExpiresAt:" + t.ExpiresAt.Format(time.RFC3339) + "}"
}

// Authenticate asks for a new bearer token. Other calls do this on their own and cache the
// token until shortly before it expires; call it only to check credentials.
func (c *Client) Authenticate(ctx context.Context) (*AuthToken, error) {
	var out struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expiresAt"`
	}
	_, err := c.http.Do(ctx, transport.Request{
		Op:           "authenticate",
		Method:       "POST",
		Path:         "/api/authentication",
		URLTemplate:  "/api/authentication",
		Body:         map[string]string{"secret": c.cfg.Secret, "clientId": c.cfg.ClientID},
		Result:       &out,
		NoAuth:       true,
		SecretAnswer: true,
		// Asking for a token twice has no effect beyond a second token.
		Repeatable: true,
	})
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, perr.Errorf("authenticate", paykit.ErrUnavailable, "the answer holds no token")
	}
	t := &AuthToken{Token: out.Token}
	if out.ExpiresAt != "" {
		t.ExpiresAt, err = time.Parse(time.RFC3339Nano, out.ExpiresAt)
		if err != nil {
			return nil, perr.Wrap("authenticate", paykit.ErrUnavailable, err, "expiresAt is not a time")
		}
	} else {
		// No expiresAt: fall back on the JWT's own exp claim. The token is not verified
		// here (we cannot, and need not: the API verifies it); only its expiry is read.
		var claims jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(out.Token, &claims); err == nil && claims.ExpiresAt != nil {
			t.ExpiresAt = claims.ExpiresAt.Time
		}
	}
	return t, nil
}

func (c *Client) fetchToken(ctx context.Context) (token.Token, error) {
	t, err := c.Authenticate(ctx)
	if err != nil {
		return token.Token{}, err
	}
	return token.Token{Value: t.Token, ExpiresAt: t.ExpiresAt}, nil
}
