package ecredits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/signature"
	"github.com/paykit/paykit/internal/token"
	"github.com/paykit/paykit/internal/transport"
)

// The eCredits Widget API hosts.
const (
	ProductionURL = "https://widget.api.ecredits.com"
	SandboxURL    = "https://widget.api.tst.ecredits.com"
)

// Config holds a merchant's eCredits credentials. It prints without its secrets.
type Config struct {
	// ClientID is the GUID of the business that receives the funds.
	ClientID string
	// Secret is the API key created in the eCredits Portal (Web Widget).
	Secret string
	// WebhookSecret is the signing secret configured with the webhook in the Portal.
	WebhookSecret string
	// BaseURL is the API host; empty means ProductionURL. SandboxURL is the test host.
	BaseURL string
	// TestMode sets testMode on every request created: it is paid on the eSync testnet, with
	// no real funds. The host still comes from BaseURL only.
	TestMode bool
}

// String prints c with its secrets redacted, so %v and %+v of a Config are safe to log.
func (c Config) String() string {
	return fmt.Sprintf("ecredits.Config{ClientID:%q Secret:%s WebhookSecret:%s BaseURL:%q TestMode:%t}",
		c.ClientID, redacted(c.Secret), redacted(c.WebhookSecret), c.BaseURL, c.TestMode)
}

// GoString is String, so %#v is safe too.
func (c Config) GoString() string { return c.String() }

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return transport.Redacted
}

// Client is an eCredits Widget API client: the native API (CreateRequest, GetRequest,
// Payments, Paid, WaitPaid, VerifyWebhook) and the paykit.Provider adapter. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	http    *transport.Client
	tokens  *token.Source
	webhook *signature.HMACSHA256
}

// New returns a client for cfg. It sends nothing: the first call authenticates.
func New(cfg Config, opts ...paykit.Option) (*Client, error) {
	settings, err := paykit.NewSettings(opts...)
	if err != nil {
		return nil, &paykit.Error{Provider: ProviderName, Op: "new client", Kind: paykit.ErrInvalidRequest, Err: err}
	}
	if cfg.ClientID == "" || cfg.Secret == "" {
		return nil, &paykit.Error{Provider: ProviderName, Op: "new client", Kind: paykit.ErrInvalidRequest, Message: "ClientID and Secret are required"}
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = ProductionURL
	}
	c := &Client{cfg: cfg, webhook: signature.NewHMACSHA256([]byte(cfg.WebhookSecret))}
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
		return nil, &paykit.Error{Provider: ProviderName, Op: "authenticate", Kind: paykit.ErrUnavailable, Message: "the answer holds no token"}
	}
	t := &AuthToken{Token: out.Token}
	if out.ExpiresAt != "" {
		t.ExpiresAt, err = time.Parse(time.RFC3339Nano, out.ExpiresAt)
		if err != nil {
			return nil, &paykit.Error{Provider: ProviderName, Op: "authenticate", Kind: paykit.ErrUnavailable, Message: "expiresAt is not a time", Err: err}
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

// errorf builds the *paykit.Error of a check made before anything is sent.
func errorf(op string, kind error, format string, args ...any) *paykit.Error {
	return &paykit.Error{Provider: ProviderName, Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// withOp sets the provider and op of an error from the root package's checks.
func withOp(err error, op string) error {
	var pe *paykit.Error
	if errors.As(err, &pe) {
		pe.Provider, pe.Op = ProviderName, op
	}
	return err
}
