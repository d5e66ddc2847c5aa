package ecster

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/idlock"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/notifyurl"
	perrs "github.com/paykit/paykit/internal/perr"
	"github.com/paykit/paykit/internal/safeprint"
	"github.com/paykit/paykit/internal/transport"
)

// Ecster's REST API bases. Paths such as /v1/carts are relative to them.
const (
	ProductionURL = "https://secure.ecster.se/rest/public"
	SandboxURL    = "https://labs.ecster.se/rest/public"
)

// DefaultLocale is the locale of carts when neither the request nor Config names one.
const DefaultLocale = "sv-SE"

// Config holds a merchant's Ecster credentials and settings. It prints without its secrets
// (%v, %+v, %#v, log/slog, and JSON, which is for logs: the secrets do not survive it).
type Config struct {
	// APIKey is sent as x-api-key; Ecster Dashboard creates and revokes API keys.
	APIKey string `paykit:"secret"`
	// MerchantKey is sent as x-merchant-key: it selects the merchant when one API key
	// serves several.
	MerchantKey string `paykit:"secret"`
	// BaseURL is the API base; empty means ProductionURL. SandboxURL is Ecster's test
	// environment.
	BaseURL string
	// ShopTermsURL is sent as parameters.shopTermsUrl of every cart: the merchant's terms,
	// which Ecster's checkout links to.
	ShopTermsURL string
	// Locale is the default locale of carts, e.g. "sv-SE" (the default when empty). Either
	// case.
	Locale string
	// NotificationHeader and NotificationHeaderValue are the custom HTTP header agreed with
	// Ecster that every OEN carries. When NotificationHeader is set, ParseNotification
	// refuses an OEN whose header is missing or wrong (paykit.ErrInvalidSignature). Empty:
	// no header is expected.
	NotificationHeader      string
	NotificationHeaderValue string `paykit:"secret"`
	// NotifySecret, when set, signs the notification URL of every cart (paykit_id and
	// paykit_sig are added to its query), and ParseNotification refuses an OEN whose URL is
	// not signed for the order it names, before anything is fetched.
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

// Client is an Ecster REST API client: the native API (carts, orders, transactions, payment
// methods and terms) and the paykit.Provider adapter. It is safe for concurrent use.
type Client struct {
	cfg      Config
	locale   Locale
	http     *transport.Client
	settings paykit.Settings
	signer   notifyurl.Signer
	// locks serializes, per payment id, this client's creates and operations: two
	// CreatePayment calls with one id at the same moment make one cart, and an operation
	// reads the order it decides on with no other operation of this client in between. A
	// pointer, so that a Client value holds no lock and can be copied and printed.
	locks *idlock.Locks
	// carts remembers the cart key last handed out for a payment id, so that a repeated
	// CreatePayment replaces that cart (UpdateCart expires the old key) instead of leaving
	// two open carts for one payment.
	carts *cartKeys
}

// String prints the client's configuration without its secrets. Its receiver is a value, so
// that a dereferenced client (fmt.Sprintf("%v", *c)) prints this way too, not field by field.
func (c Client) String() string { return safeprint.Client("ecster.Client", c.cfg) }

// GoString is String, so %#v is safe too, of a *Client and of a Client.
func (c Client) GoString() string { return c.String() }

// LogValue prints the client for log/slog without its secrets.
func (c Client) LogValue() slog.Value { return safeprint.ClientLogValue(c.cfg) }

// perr names this package's errors.
const perr = perrs.For(ProviderName)

// MaxOrderReference is the longest orderReference Ecster takes, and so the longest payment
// id.
const MaxOrderReference = 64

// NewID returns a new payment id that Ecster takes as an orderReference (a lowercase dashed
// UUID, 36 characters). Store it with the order before calling CreatePayment.
func NewID() string { return ids.UUID() }

// New returns a client for cfg. It sends nothing.
func New(cfg Config, opts ...paykit.Option) (*Client, error) {
	const op = "new client"
	settings, err := paykit.NewSettings(opts...)
	if err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "")
	}
	if cfg.APIKey == "" || cfg.MerchantKey == "" {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "APIKey and MerchantKey are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = ProductionURL
	}
	if cfg.Locale == "" {
		cfg.Locale = DefaultLocale
	}
	locale, err := ParseLocale(cfg.Locale)
	if err != nil {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "Config.Locale: %v", err)
	}
	switch {
	case cfg.NotificationHeader == "" && cfg.NotificationHeaderValue != "":
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "NotificationHeaderValue is set without NotificationHeader")
	case cfg.NotificationHeader != "" && cfg.NotificationHeaderValue == "":
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "NotificationHeader needs NotificationHeaderValue")
	case cfg.NotificationHeader != "" && !isToken(cfg.NotificationHeader):
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "NotificationHeader %q is not an HTTP header name", cfg.NotificationHeader)
	}
	c := &Client{
		cfg:      cfg,
		locale:   locale,
		settings: settings,
		signer:   notifyurl.New(cfg.NotifySecret),
		locks:    new(idlock.Locks),
		carts:    newCartKeys(maxRememberedCarts),
	}
	c.http, err = transport.New(transport.Config{
		Provider:    ProviderName,
		BaseURL:     cfg.BaseURL,
		Settings:    settings,
		Headers:     map[string]string{"x-api-key": cfg.APIKey, "x-merchant-key": cfg.MerchantKey},
		DecodeError: DecodeError,
		Secrets:     []string{cfg.APIKey, cfg.MerchantKey, cfg.NotificationHeaderValue, cfg.NotifySecret},
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CodeInvalidState is Ecster's error code for "order is not in a valid state", e.g. a debit
// of an order that is debited already: paykit.ErrUnprocessable whatever the HTTP status.
const CodeInvalidState = 4424

// DecodeError reads Ecster's error body, {code (int), type, message}, into e: Code as a
// decimal string, Type and Message as they are. It also reads the fallback {error, message}
// some integrations have seen. Code 4424 makes the error paykit.ErrUnprocessable whatever the
// HTTP status was; 401 and 403 are paykit.ErrUnauthorized. A body it cannot read leaves e as
// the HTTP status made it.
func DecodeError(body []byte, e *paykit.Error) {
	var w struct {
		Code    json.RawMessage `json:"code"`
		Type    json.RawMessage `json:"type"`
		Message json.RawMessage `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &w) == nil {
		if code := rawText(w.Code); code != "" {
			e.Code = code
		}
		if t := rawText(w.Type); t != "" {
			e.Type = t
		}
		var parts []string
		for _, raw := range []json.RawMessage{w.Error, w.Message} {
			if s := rawText(raw); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			e.Message = strings.Join(parts, ": ")
		}
	}
	switch {
	case e.Code == strconv.Itoa(CodeInvalidState):
		e.Kind = paykit.ErrUnprocessable
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden:
		e.Kind = paykit.ErrUnauthorized
	}
}

// rawText reads a JSON string, or a JSON integer as its decimal text ("4424"); anything else
// is "".
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
		return n.String()
	}
	return ""
}

// isToken reports whether s is an HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
