package ecstertest

import (
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/paykit/paykit/internal/fakeserver"
)

// Default credentials and settings. Examples and tests may use the credentials as they are;
// they are not secrets.
const (
	// DefaultAPIKey is the x-api-key the fake accepts unless Config.APIKey is set.
	DefaultAPIKey = "ecstertest-api-key"
	// DefaultMerchantKey is the x-merchant-key the fake accepts unless Config.MerchantKey
	// is set.
	DefaultMerchantKey = "ecstertest-merchant-key"
	// DefaultMerchantID is the merchantId the fake's orders carry unless Config.MerchantID
	// is set.
	DefaultMerchantID = "10569832"

	// OEN redelivery. Ecster itself waits 2 hours between tries and tries 24 times; the
	// fake's default waits are milliseconds so that tests do not wait. Set RetryMinWait and
	// RetryMaxWait to 2*time.Hour for Ecster's own pace.
	DefaultRetryMinWait        = 10 * time.Millisecond
	DefaultRetryMaxWait        = time.Second
	DefaultMaxDeliveryAttempts = 24
)

// Route patterns, as found in Call.Route and given to Calls and OnRoute.
const (
	RouteCarts          = "/v1/carts"
	RouteCart           = "/v1/carts/{key}"
	RouteOrders         = "/v1/orders"
	RouteOrder          = "/v1/orders/{orderId}"
	RouteTransactions   = "/v1/orders/{orderId}/transactions"
	RoutePaymentMethods = "/v1/paymentmethods"
	RouteTerms          = "/v1/paymentmethods/terms"
)

// Errors of the control methods and of WaitDelivered. ErrClosed, ErrGaveUp, ErrLost,
// ErrNoNotifyURL and ErrUnknownPayment are the values every paykit fake shares.
var (
	// ErrClosed: the server is closed.
	ErrClosed = fakeserver.ErrClosed
	// ErrGaveUp: an OEN's attempts ran out without a 200 answer.
	ErrGaveUp = fakeserver.ErrGaveUp
	// ErrLost: a notification the server was told to lose (LoseNotifications,
	// LosePaymentNotifications) was never sent.
	ErrLost = fakeserver.ErrLost
	// ErrNoNotifyURL: the cart named no notificationUrl and Config.NotifyURL is empty, so
	// no OEN is sent.
	ErrNoNotifyURL = fakeserver.ErrNoNotifyURL
	// ErrUnknownPayment: no cart or order has that orderReference.
	ErrUnknownPayment = fakeserver.ErrUnknownPayment

	// ErrNoCart: the payment has no cart that can be checked out (none is open: the last
	// one was completed or replaced).
	ErrNoCart = errors.New("ecstertest: no open cart for the payment")
	// ErrNoOrder: the payment's cart has not become an order yet.
	ErrNoOrder = errors.New("ecstertest: the payment has no order")
	// ErrBadStatus: the status cannot be set by that control (see its documentation).
	ErrBadStatus = errors.New("ecstertest: status not allowed here")
)

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	APIKey      string // x-api-key accepted; DefaultAPIKey
	MerchantKey string // x-merchant-key accepted; DefaultMerchantKey
	MerchantID  string // merchantId of orders; DefaultMerchantID

	// NotificationHeader and NotificationHeaderValue are the custom HTTP header agreed
	// with Ecster that every OEN carries. Empty: none.
	NotificationHeader      string
	NotificationHeaderValue string
	// NotifyURL is where the OENs of a cart that named no notificationUrl go (SetNotifyURL
	// changes it). Empty: they are not sent.
	NotifyURL string

	// OEN redelivery: the first retry waits RetryMinWait, each later one twice as long as
	// the one before, at most RetryMaxWait, for at most MaxDeliveryAttempts attempts.
	// Ecster's own pace is 2 hours and 24 attempts.
	RetryMinWait        time.Duration // DefaultRetryMinWait
	RetryMaxWait        time.Duration // DefaultRetryMaxWait
	MaxDeliveryAttempts int           // DefaultMaxDeliveryAttempts
	// NotifyClient sends OENs; nil: a client of the server's own with a 5-second timeout
	// that follows no redirects.
	NotifyClient *http.Client

	// Now is the server's clock; nil: time.Now. Advance moves it forward.
	Now func() time.Time
}

// Server is a running fake Ecster REST API. Create it with NewServer and Close it when done.
// It is safe for concurrent use.
type Server struct {
	// URL is the base URL of the fake, "http://127.0.0.1:port", with no trailing slash: the
	// client's BaseURL (the real one ends in /rest/public).
	URL string

	// Controls gives the methods every paykit fake has, documented there:
	//
	//	FailNext(n, status int, opts ...FaultOption)  DropNext(n int, opts ...FaultOption)
	//	MalformedNext(n int, opts ...FaultOption)      SetLatency(d time.Duration)  ClearFaults()
	//	CallLog() []Call  Calls(method, route string) int
	//	Deliveries() []Delivery  WaitDelivered(ctx, paymentID string) error
	//	Redeliver(ctx, paymentID string) (int, error)
	*fakeserver.Controls

	cfg  Config
	fake *fakeserver.Server

	mu     sync.Mutex
	carts  map[string]*cart   // by key, every key ever issued
	orders map[string]*order  // by Ecster's order id
	byRef  map[string][]*cart // orderReference → its carts, oldest first
	refs   map[string][]*order
}

// NewServer starts a fake Ecster on a loopback port.
func NewServer(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.MerchantKey == "" {
		cfg.MerchantKey = DefaultMerchantKey
	}
	if cfg.MerchantID == "" {
		cfg.MerchantID = DefaultMerchantID
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
	s := &Server{
		cfg:    cfg,
		carts:  make(map[string]*cart),
		orders: make(map[string]*order),
		byRef:  make(map[string][]*cart),
		refs:   make(map[string][]*order),
	}
	s.fake = fakeserver.New(fakeserver.Config{
		Route:        routeWithPages, // the API, and the checkout page (pages.go)
		Handle:       s.handleWithPages,
		Fail:         failAnswer,
		Malformed:    malformed,
		Now:          cfg.Now,
		NotifyURL:    cfg.NotifyURL,
		NotifyClient: cfg.NotifyClient,
		Retry:        fakeserver.Retry{MinWait: cfg.RetryMinWait, MaxWait: cfg.RetryMaxWait, MaxAttempts: cfg.MaxDeliveryAttempts},
	})
	s.URL, s.Controls = s.fake.URL, s.fake.Controls
	return s
}

// SetNotifyURL changes where the OENs of carts that named no notificationUrl go
// (Config.NotifyURL), for OENs sent after the call: a merchant's test can start the fake
// before the handler that receives its OENs exists. Empty: such OENs are not sent.
func (s *Server) SetNotifyURL(u string) { s.fake.SetNotifyURL(u) }

// Close stops the server: it ends slow answers, stops OEN redeliveries (an OEN without a 200
// so far is left undelivered), and waits for its goroutines. Calling it again does nothing.
func (s *Server) Close() { s.fake.Close() }

// Client returns an *http.Client that talks to the server (its transport is closed by
// Close).
func (s *Server) Client() *http.Client { return s.fake.Client() }

// Now is the server's clock: Config.Now plus everything Advance added.
func (s *Server) Now() time.Time { return s.fake.Now() }

// Advance moves the server's clock forward by d (backward when d is negative). Nothing
// expires by the clock alone: Expire does that.
func (s *Server) Advance(d time.Duration) { s.fake.Advance(d) }

// The types, values and options every paykit fake shares (internal/fakeserver), under the
// same names in each fake.
type (
	// Call is one API call the server received, as CallLog returns it.
	Call = fakeserver.Call
	// Fault names a misbehaviour injected into an API call (Call.Fault).
	Fault = fakeserver.Fault
	// FaultOption refines FailNext, DropNext and MalformedNext: see OnRoute and RetryAfter.
	FaultOption = fakeserver.FaultOption
	// Delivery is one OEN the server sent or tried to send, with its attempts; its
	// PaymentID is the orderReference, its Event the order event (CREATED, PARTIAL_DEBIT…).
	Delivery = fakeserver.Delivery
	// Attempt is one POST of an OEN.
	Attempt = fakeserver.Attempt
)

// The faults.
const (
	FaultNone      = fakeserver.FaultNone
	FaultFail      = fakeserver.FaultFail      // FailNext: answered with Ecster's error object, not processed
	FaultDrop      = fakeserver.FaultDrop      // DropNext: processed, connection closed without an answer
	FaultMalformed = fakeserver.FaultMalformed // MalformedNext: processed, answered 200 with broken JSON
	FaultCanceled  = fakeserver.FaultCanceled  // the client went away (or Close came) during SetLatency's wait
)

// OnRoute limits a fault to calls of one route (RouteCarts, RouteCart, RouteOrders,
// RouteOrder, RouteTransactions, RoutePaymentMethods, RouteTerms) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are.
func OnRoute(method, route string) FaultOption { return fakeserver.OnRoute(method, route) }

// RetryAfter makes FailNext's answers carry a Retry-After header with value v (seconds, as
// "2", or an HTTP date). Other faults ignore it.
func RetryAfter(v string) FaultOption { return fakeserver.RetryAfter(v) }

// randomID returns n characters of [A-Za-z0-9], like Ecster's 20-character order ids.
func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	// crypto/rand.Read does not fail on supported platforms (it panics inside instead).
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
