package ecreditstest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paykit/paykit/internal/fakeserver"
	"github.com/paykit/paykit/internal/signature"
)

// Default credentials and settings. Examples and tests may use the credentials as they are;
// they are not secrets.
const (
	// DefaultClientID is the business id the fake accepts unless Config.ClientID is set
	// (the sample id of the provider's document).
	DefaultClientID = "3fa85f34-5717-4562-b3fc-2c963f66afa7"
	// DefaultSecret is the API key the fake accepts unless Config.Secret is set.
	DefaultSecret = "ecreditstest-api-key"
	// DefaultWebhookSecret is the webhook signing secret unless Config.WebhookSecret is set
	// (the sample secret of the provider's document).
	DefaultWebhookSecret = "TheSigningSecretOfTheWebHook"

	DefaultTokenLifetime       = time.Hour        // lifetime of an issued token
	DefaultRequestLifetime     = 15 * time.Minute // time from create to a request's expiresAt
	DefaultECSPerEUR           = 100              // ECS asked for one EUR
	DefaultRetryMinWait        = 10 * time.Millisecond
	DefaultRetryMaxWait        = time.Second
	DefaultMaxDeliveryAttempts = 20
)

// Route patterns, as found in Call.Route and given to Calls and OnRoute.
const (
	RouteAuthentication  = "/api/authentication"
	RouteRequests        = "/api/v1/requests"
	RouteRequest         = "/api/v1/requests/{id}"
	RouteRequestPayments = "/api/v1/requests/{id}/payments"
	RouteRequestPaid     = "/api/v1/requests/{id}/paid"
)

// Errors of the control methods and of WaitDelivered. ErrClosed, ErrGaveUp, ErrLost,
// ErrNoNotifyURL and ErrUnknownPayment are the values every paykit fake shares.
var (
	// ErrClosed: the server is closed.
	ErrClosed = fakeserver.ErrClosed
	// ErrGaveUp: a webhook's attempts ran out without a 200 answer.
	ErrGaveUp = fakeserver.ErrGaveUp
	// ErrLost: a notification the server was told to lose (LoseNotifications,
	// LosePaymentNotifications) was never sent.
	ErrLost = fakeserver.ErrLost
	// ErrNoNotifyURL: no webhook URL is configured, so no webhook is sent.
	ErrNoNotifyURL = fakeserver.ErrNoNotifyURL
	// ErrUnknownPayment: no transaction request has that id.
	ErrUnknownPayment = fakeserver.ErrUnknownPayment

	// ErrExpired: the transaction request is past its expiresAt and cannot be paid.
	ErrExpired = errors.New("ecreditstest: transaction request expired")
	// ErrPaid: the transaction request is paid and cannot expire.
	ErrPaid = errors.New("ecreditstest: transaction request already paid")
)

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	ClientID      string // business id accepted at /api/authentication; DefaultClientID
	Secret        string // API key accepted at /api/authentication; DefaultSecret
	WebhookSecret string // key of the webhook signature; DefaultWebhookSecret
	// NotifyURL is the merchant's webhook as configured in the eCredits portal: every
	// webhook goes there (eCredits has no per-request URL). Empty: no webhooks are sent.
	// Give it here, before the merchant's handler exists, by listening first: see the
	// package's Example. SetNotifyURL changes it later.
	NotifyURL       string
	TokenLifetime   time.Duration // DefaultTokenLifetime
	RequestLifetime time.Duration // DefaultRequestLifetime
	ECSPerEUR       int64         // integer exchange rate; DefaultECSPerEUR

	// Webhook redelivery: the first retry waits RetryMinWait, each later one twice as long
	// as the one before, at most RetryMaxWait, for at most MaxDeliveryAttempts attempts.
	RetryMinWait        time.Duration // DefaultRetryMinWait
	RetryMaxWait        time.Duration // DefaultRetryMaxWait
	MaxDeliveryAttempts int           // DefaultMaxDeliveryAttempts
	// NotifyClient sends webhooks; nil: a client of the server's own with a 5-second
	// timeout that follows no redirects.
	NotifyClient *http.Client

	// Now is the server's clock; nil: time.Now. Advance moves it forward.
	Now func() time.Time
}

// Server is a running fake eCredits Widget API. Create it with NewServer and Close it when
// done. It is safe for concurrent use.
type Server struct {
	// URL is the base URL of the fake, "http://127.0.0.1:port", with no trailing slash.
	URL string

	// Controls gives the methods every paykit fake has, documented there:
	//
	//	FailNext(n, status int, opts ...FaultOption)  DropNext(n int, opts ...FaultOption)
	//	MalformedNext(n int, opts ...FaultOption)      SetLatency(d time.Duration)  ClearFaults()
	//	CallLog() []Call  Calls(method, route string) int
	//	Deliveries() []Delivery  WaitDelivered(ctx, paymentID string) error
	//	Redeliver(ctx, paymentID string) (int, error)
	*fakeserver.Controls

	cfg    Config
	fake   *fakeserver.Server // HTTP server, clock, faults, latency, call log, webhooks, Close
	key    []byte
	parser *jwt.Parser
	signer *signature.HMACSHA256

	mu            sync.Mutex
	tokenLifetime time.Duration
	tokens        map[string]time.Time // jti → exact expiry of tokens not revoked
	authCount     int
	requests      map[string]*txRequest // by lower-case id
}

// NewServer starts a fake eCredits Widget API on a loopback port.
func NewServer(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.Secret == "" {
		cfg.Secret = DefaultSecret
	}
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = DefaultWebhookSecret
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.RequestLifetime <= 0 {
		cfg.RequestLifetime = DefaultRequestLifetime
	}
	if cfg.ECSPerEUR <= 0 {
		cfg.ECSPerEUR = DefaultECSPerEUR
	}
	if cfg.RetryMinWait <= 0 {
		cfg.RetryMinWait = DefaultRetryMinWait
	}
	if cfg.RetryMaxWait <= 0 {
		cfg.RetryMaxWait = DefaultRetryMaxWait
	}
	if cfg.MaxDeliveryAttempts <= 0 {
		cfg.MaxDeliveryAttempts = DefaultMaxDeliveryAttempts
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:           cfg,
		key:           randomBytes(32),
		signer:        signature.NewHMACSHA256([]byte(cfg.WebhookSecret)),
		tokenLifetime: cfg.TokenLifetime,
		tokens:        make(map[string]time.Time),
		requests:      make(map[string]*txRequest),
	}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithSubject(cfg.ClientID),
		jwt.WithTimeFunc(s.Now),
	)
	s.fake = fakeserver.New(fakeserver.Config{
		Route:  routeWithPages, // the API, and the buyer's pages (pages.go)
		Handle: s.handleWithPages,
		Fail: func(status int) response {
			return problemResponse(status, "Failure injected by ecreditstest.FailNext.")
		},
		Malformed:    malformed,
		MaxBody:      maxBody,
		Now:          cfg.Now,
		NotifyURL:    cfg.NotifyURL,
		NotifyClient: cfg.NotifyClient,
		Retry:        fakeserver.Retry{MinWait: cfg.RetryMinWait, MaxWait: cfg.RetryMaxWait, MaxAttempts: cfg.MaxDeliveryAttempts},
		PaymentKey:   idKey, // request ids compare ignoring case
	})
	s.URL, s.Controls = s.fake.URL, s.fake.Controls
	return s
}

// Close stops the server: it ends slow answers, stops webhook redeliveries (a webhook
// without a 200 so far is left undelivered), and waits for its goroutines. Calling it again
// does nothing.
func (s *Server) Close() { s.fake.Close() }

// Client returns an *http.Client that talks to the server (its transport is closed by
// Close).
func (s *Server) Client() *http.Client { return s.fake.Client() }

// Now is the server's clock: Config.Now plus everything Advance added.
func (s *Server) Now() time.Time { return s.fake.Now() }

// Advance moves the server's clock forward by d (backward when d is negative). Tokens and
// transaction requests whose expiry it passes are expired; no webhook is sent for that.
func (s *Server) Advance(d time.Duration) { s.fake.Advance(d) }

// SetNotifyURL changes the merchant's webhook URL, as the portal does. Empty: no webhooks.
// It applies to webhooks of events after the call. Config.NotifyURL gives it from the
// start, which is what a test wants (see the Example); this is for changing it.
func (s *Server) SetNotifyURL(u string) { s.fake.SetNotifyURL(u) }

// SetTokenLifetime changes the lifetime of tokens issued after the call.
func (s *Server) SetTokenLifetime(d time.Duration) {
	if d <= 0 {
		d = DefaultTokenLifetime
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// RevokeTokens invalidates every token issued so far: each later call with one answers 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// AuthCount reports how many successful authentications the server answered (a
// MalformedNext or DropNext answer counts, a FailNext one does not: it was not processed).
func (s *Server) AuthCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authCount
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read does not fail on supported platforms (it panics inside instead).
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// traceID is an ASP.NET-style W3C trace id.
func traceID() string { return "00-" + randomHex(16) + "-" + randomHex(8) + "-00" }

// idKey is the map key of a transaction request id: ids compare ignoring case.
func idKey(id string) string { return strings.ToLower(id) }

// The types, values and options every paykit fake shares (internal/fakeserver), under the
// same names in each fake.
type (
	// Call is one API call the server received, as CallLog returns it.
	Call = fakeserver.Call
	// Fault names a misbehaviour injected into an API call (Call.Fault).
	Fault = fakeserver.Fault
	// FaultOption refines FailNext, DropNext and MalformedNext: see OnRoute and RetryAfter.
	FaultOption = fakeserver.FaultOption
	// Delivery is one webhook the server sent or tried to send, with its attempts; its
	// PaymentID is the request id, its Event the status's name (Settled, Expired).
	Delivery = fakeserver.Delivery
	// Attempt is one POST of a webhook.
	Attempt = fakeserver.Attempt
)

// The faults.
const (
	FaultNone      = fakeserver.FaultNone
	FaultFail      = fakeserver.FaultFail      // FailNext: answered with a problem document, not processed
	FaultDrop      = fakeserver.FaultDrop      // DropNext: processed, connection closed without an answer
	FaultMalformed = fakeserver.FaultMalformed // MalformedNext: processed, answered 200 with broken JSON
	FaultCanceled  = fakeserver.FaultCanceled  // the client went away (or Close came) during SetLatency's wait
)

// OnRoute limits a fault to calls of one route (a Route… constant) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are,
// /api/authentication included.
func OnRoute(method, route string) FaultOption { return fakeserver.OnRoute(method, route) }

// RetryAfter makes FailNext's answers carry a Retry-After header with value v (seconds, as
// "2", or an HTTP date). Other faults ignore it.
func RetryAfter(v string) FaultOption { return fakeserver.RetryAfter(v) }
