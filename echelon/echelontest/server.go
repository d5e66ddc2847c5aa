package echelontest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/fakeserver"
)

// Default credentials and settings. Examples and tests may use the credentials as they are;
// they are not secrets.
const (
	// DefaultMerchantCode is the merchant the fake knows unless Config.MerchantCode is set.
	DefaultMerchantCode = "echelontest-merchant"
	// DefaultSecret is DefaultMerchantCode's secret key unless Config.Secret is set.
	DefaultSecret = "echelontest-merchant-secret"

	DefaultTokenLifetime = 24 * time.Hour // the longest a token lives (validitySecs beyond it are cut)
	DefaultPayinLifetime = 24 * time.Hour // time from a payin's creation to its expireAt
	DefaultRateLimit     = 10             // requests in any RateWindow; the 11th is answered 429
	DefaultRateWindow    = time.Second
	DefaultFeePercent    = 1 // fee of a payin or payout, in percent of its amount (rounded down)

	DefaultRetryMinWait        = fakeserver.DefaultRetryMinWait
	DefaultRetryMaxWait        = fakeserver.DefaultRetryMaxWait
	DefaultMaxDeliveryAttempts = fakeserver.DefaultMaxAttempts
)

// NoRateLimit, as Config.RateLimit, lifts the throttling: for benchmarks, which would
// otherwise measure the 10 requests per second.
const NoRateLimit = -1

// Route patterns, as found in Call.Route and given to Calls and OnRoute.
const (
	RouteAuthTokens         = "/auth-tokens"
	RouteAuthTokensByAction = "/auth-tokens-by-action"
	RoutePaymentOptions     = "/payins/!availablePaymentOptions"
	RoutePayin              = "/payins/{id}"
	RoutePayout             = "/payouts/{id}"
	RouteBalances           = "/balances"
)

// The payment methods the fake offers unless Config.PayinMethods or Config.PayoutMethods is
// set: the codes the document shows, and EWALLET, a method paid on the operator's page.
const (
	MethodVirtualAccount = "VAPAY"         // bank transfer to a virtual account, with a reference
	MethodOffline        = "OFFLINE"       // transfer at a branch, with a reference
	MethodEWallet        = "EWALLET"       // paid on the operator's page: the payin has a redirectUrl
	MethodBankTransfer   = "BANK_TRANSFER" // payouts
)

// Errors of the control methods and of WaitDelivered. ErrClosed, ErrGaveUp, ErrLost,
// ErrNoNotifyURL and ErrUnknownPayment are the values every paykit fake shares.
var (
	// ErrClosed: the server is closed.
	ErrClosed = fakeserver.ErrClosed
	// ErrGaveUp: a callback's attempts ran out without a 200 answer.
	ErrGaveUp = fakeserver.ErrGaveUp
	// ErrLost: a notification the server was told to lose (LoseNotifications,
	// LosePaymentNotifications) was never sent.
	ErrLost = fakeserver.ErrLost
	// ErrNoNotifyURL: the payin or payout has no callbackUrl and Config.NotifyURL is empty,
	// so no callback comes.
	ErrNoNotifyURL = fakeserver.ErrNoNotifyURL
	// ErrUnknownPayment: no payin or payout has that id.
	ErrUnknownPayment = fakeserver.ErrUnknownPayment

	// ErrFinal: the payin or payout is in a final state (SUCCESS, FAILED, CANCELLED,
	// EXPIRED) and cannot change any more.
	ErrFinal = errors.New("echelontest: payment is in a final state")
)

// Method is a payment method the fake offers, with its operators.
type Method struct {
	Code      string
	Operators []Operator
	// Redirect: the customer pays on the operator's page (the payin answers a redirectUrl);
	// otherwise by transfer to the account the payin shows.
	Redirect bool
}

// Operator is a payment operator of a Method.
type Operator struct{ Code, Name string }

// DefaultPayinMethods are the payin methods of a fake whose Config sets none.
func DefaultPayinMethods() []Method {
	return []Method{
		{Code: MethodVirtualAccount, Operators: []Operator{{"BNK_000", "Echelon Test Bank"}, {"BNK_001", "Second Test Bank"}}},
		{Code: MethodOffline, Operators: []Operator{{"BNK_000", "Echelon Test Bank"}}},
		{Code: MethodEWallet, Operators: []Operator{{"EWL_000", "Test Wallet"}}, Redirect: true},
	}
}

// DefaultPayoutMethods are the payout methods of a fake whose Config sets none.
func DefaultPayoutMethods() []Method {
	return []Method{{Code: MethodBankTransfer, Operators: []Operator{{"BNK_000", "Echelon Test Bank"}, {"BNK_001", "Second Test Bank"}}}}
}

// DefaultBalances are the merchant's balances in a fake whose Config sets none.
func DefaultBalances() []paykit.Money {
	return []paykit.Money{{Amount: 100_000_00, Currency: "INR"}, {Amount: 10_000_000_00, Currency: "IDR"}, {Amount: 10_000_00, Currency: "USD"}}
}

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	MerchantCode string // DefaultMerchantCode
	Secret       string // DefaultSecret

	// TokenLifetime is the longest a token lives: a validitySecs beyond it is cut to it
	// (DefaultTokenLifetime). SetTokenLifetime changes it.
	TokenLifetime time.Duration
	// RateLimit is how many requests may arrive in any RateWindow; the next is answered 429
	// and not processed. Every request counts, token requests included. 0:
	// DefaultRateLimit; NoRateLimit lifts the limit (benchmarks).
	RateLimit  int
	RateWindow time.Duration // DefaultRateWindow

	PayinMethods  []Method       // DefaultPayinMethods()
	PayoutMethods []Method       // DefaultPayoutMethods()
	Balances      []paykit.Money // the merchant's opening balances; DefaultBalances()
	PayinLifetime time.Duration  // DefaultPayinLifetime
	FeePercent    int            // DefaultFeePercent; negative: no fee

	// NotifyURL is where callbacks of payins and payouts created without a callbackUrl go
	// (ASSUMPTION: a default set in the back-office). Give it here, before the merchant's
	// handler exists, by listening first: see the package's Example; SetNotifyURL changes
	// it later. Empty: such payments have no callbacks.
	NotifyURL string
	// Callback redelivery: the first retry waits RetryMinWait, each later one twice as long
	// as the one before, at most RetryMaxWait, for at most MaxDeliveryAttempts attempts.
	RetryMinWait        time.Duration
	RetryMaxWait        time.Duration
	MaxDeliveryAttempts int
	// NotifyClient sends callbacks; nil: a client of the server's own.
	NotifyClient *http.Client

	// Now is the server's clock; nil: time.Now. Advance moves it forward.
	Now func() time.Time
}

// Server is a running fake EchelonPay API. Create it with NewServer and Close it when done.
// It is safe for concurrent use.
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
	fake   *fakeserver.Server
	key    []byte
	parser *jwt.Parser

	mu            sync.Mutex
	tokenLifetime time.Duration
	tokens        map[string]*issued // by jti, not revoked
	issuedLog     []IssuedToken
	arrivals      []time.Time // accepted requests within the rate window, oldest first
	payins        map[string]*payment
	payouts       map[string]*payment
	seq           int // creation order of payins and payouts
	balances      map[string]int64
}

// NewServer starts a fake EchelonPay API on a loopback port.
func NewServer(cfg Config) *Server {
	if cfg.MerchantCode == "" {
		cfg.MerchantCode = DefaultMerchantCode
	}
	if cfg.Secret == "" {
		cfg.Secret = DefaultSecret
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.PayinMethods == nil {
		cfg.PayinMethods = DefaultPayinMethods()
	}
	if cfg.PayoutMethods == nil {
		cfg.PayoutMethods = DefaultPayoutMethods()
	}
	if cfg.Balances == nil {
		cfg.Balances = DefaultBalances()
	}
	if cfg.PayinLifetime <= 0 {
		cfg.PayinLifetime = DefaultPayinLifetime
	}
	if cfg.FeePercent == 0 {
		cfg.FeePercent = DefaultFeePercent
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:           cfg,
		key:           randomBytes(32),
		tokenLifetime: cfg.TokenLifetime,
		tokens:        make(map[string]*issued),
		payins:        make(map[string]*payment),
		payouts:       make(map[string]*payment),
		balances:      make(map[string]int64),
	}
	for _, b := range cfg.Balances {
		s.balances[b.Currency] += b.Amount
	}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithSubject(cfg.MerchantCode),
		jwt.WithTimeFunc(s.Now),
	)
	s.fake = fakeserver.New(fakeserver.Config{
		Route:  routeWithPages, // the API, and the web app (pages.go)
		Handle: s.handleWithPages,
		Fail: func(status int) response {
			return errorResponse(status, "INJECTED_FAILURE", "Failure injected by echelontest.FailNext.")
		},
		Malformed:    malformed,
		MaxBody:      maxBody,
		Now:          cfg.Now,
		NotifyURL:    cfg.NotifyURL,
		NotifyClient: cfg.NotifyClient,
		Retry:        fakeserver.Retry{MinWait: cfg.RetryMinWait, MaxWait: cfg.RetryMaxWait, MaxAttempts: cfg.MaxDeliveryAttempts},
	})
	s.URL, s.Controls = s.fake.URL, s.fake.Controls
	return s
}

// Close stops the server: it ends slow answers, stops callback redeliveries (a callback
// without a 200 so far is left undelivered), and waits for its goroutines. Calling it again
// does nothing.
func (s *Server) Close() { s.fake.Close() }

// Client returns an *http.Client that talks to the server (its transport is closed by
// Close).
func (s *Server) Client() *http.Client { return s.fake.Client() }

// Now is the server's clock: Config.Now plus everything Advance added.
func (s *Server) Now() time.Time { return s.fake.Now() }

// Advance moves the server's clock forward by d (backward when d is negative). Tokens whose
// expiry it passes are answered 401; payins past their expireAt stay as they are until
// Expire (EchelonPay's own expiry sends a callback, which Advance does not).
func (s *Server) Advance(d time.Duration) { s.fake.Advance(d) }

// SetNotifyURL changes Config.NotifyURL, for callbacks queued after the call.
func (s *Server) SetNotifyURL(u string) { s.fake.SetNotifyURL(u) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read does not fail on supported platforms (it panics inside instead).
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// The types, values and options every paykit fake shares (internal/fakeserver), under the
// same names in each fake.
type (
	// Call is one API call the server received, as CallLog returns it.
	Call = fakeserver.Call
	// Fault names a misbehaviour injected into an API call (Call.Fault).
	Fault = fakeserver.Fault
	// FaultOption refines FailNext, DropNext and MalformedNext: see OnRoute and RetryAfter.
	FaultOption = fakeserver.FaultOption
	// Delivery is one callback the server sent or tried to send, with its attempts; its
	// PaymentID is the idPayin or idPayout, its Event the status that caused it.
	Delivery = fakeserver.Delivery
	// Attempt is one POST of a callback.
	Attempt = fakeserver.Attempt
)

// The faults.
const (
	FaultNone      = fakeserver.FaultNone
	FaultFail      = fakeserver.FaultFail      // FailNext: answered with an error, not processed
	FaultDrop      = fakeserver.FaultDrop      // DropNext: processed, connection closed without an answer
	FaultMalformed = fakeserver.FaultMalformed // MalformedNext: processed, answered 200 with broken JSON
	FaultCanceled  = fakeserver.FaultCanceled  // the client went away (or Close came) during SetLatency's wait
)

// OnRoute limits a fault to calls of one route (a Route… constant) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are,
// token requests included.
func OnRoute(method, route string) FaultOption { return fakeserver.OnRoute(method, route) }

// RetryAfter makes FailNext's answers carry a Retry-After header with value v (seconds, as
// "2", or an HTTP date). Other faults ignore it.
func RetryAfter(v string) FaultOption { return fakeserver.RetryAfter(v) }
