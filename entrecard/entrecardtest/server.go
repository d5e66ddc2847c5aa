package entrecardtest

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/paykit/paykit/entrecard/internal/buylinks"
	"github.com/paykit/paykit/internal/fakeserver"
)

// Default credentials and settings. Examples and tests may use the credentials as they are;
// they are not secrets.
const (
	DefaultSellerID     = "1001"                        // the seller NewServer knows unless Config.Sellers is set
	DefaultSecret       = "entrecardtest-seller-secret" // DefaultSellerID's Seller Secret
	DefaultBuyer        = "buyer"                       // the buyer NewServer knows unless Config.Buyers is set
	DefaultBuyerBalance = 10000                         // DefaultBuyer's credits

	DefaultRetryMinWait        = 20 * time.Millisecond           // wait between deliveries of one result
	DefaultMaxDeliveryAttempts = 50                              // deliveries of one result before giving up
	DefaultDeliveryTimeout     = fakeserver.DefaultNotifyTimeout // bound of one delivery
	DefaultFirstTransactionID  = 100001                          // transaction_id of the first transaction
)

// Route patterns, as found in Call.Route and given to Calls and OnRoute. They are served at
// the server's root and under /uapi/1, so a client's BaseURL may be Server.URL or
// Server.URL + "/uapi/1".
const (
	RouteBuy     = "/buy"         // GET: the page showing what the buyer would confirm
	RouteConfirm = "/buy/confirm" // POST: the buyer confirms (the link's parameters and buyer)
	RouteCancel  = "/buy/cancel"  // POST: the buyer cancels after signing in (a cancelled result)
	RouteLeave   = "/buy/leave"   // POST: the buyer leaves before any transaction (no result)
)

// Errors of the control methods and of WaitDelivered. ErrClosed, ErrGaveUp, ErrLost,
// ErrNoNotifyURL and ErrUnknownPayment are the values every paykit fake shares.
var (
	// ErrClosed: the server is closed.
	ErrClosed = fakeserver.ErrClosed
	// ErrGaveUp: the deliveries of a result ended without a 200 answer.
	ErrGaveUp = fakeserver.ErrGaveUp
	// ErrLost: a notification the server was told to lose (LoseNotifications,
	// LosePaymentNotifications) was never sent.
	ErrLost = fakeserver.ErrLost
	// ErrNoNotifyURL: the fake knows no notify URL for the payment: its buy link was not
	// opened yet, so no result will come.
	ErrNoNotifyURL = fakeserver.ErrNoNotifyURL
	// ErrUnknownPayment: no buy link with that item id was opened (see Open) or built by a
	// client of this process for this server, or, for Redeliver, it has no result yet.
	ErrUnknownPayment = fakeserver.ErrUnknownPayment

	// ErrNotThisServer: a buy link that does not point at this server.
	ErrNotThisServer = errors.New("entrecardtest: the link does not point at this server")
	// ErrMalformed: the server's answer was not what Entrecard answers (see MalformedNext).
	ErrMalformed = errors.New("entrecardtest: malformed answer")
)

// StatusError is a page the server answered with an error status, as a control method
// reports it: 400 for a field the link has wrong, 401 for an unknown buyer, 403 for a bad
// signature or an unknown seller, or the status given to FailNext.
type StatusError struct {
	StatusCode int
	Message    string
}

func (e *StatusError) Error() string {
	return "entrecardtest: " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode) + ": " + e.Message
}

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// Sellers maps seller ids to their Seller Secrets; nil: DefaultSellerID with
	// DefaultSecret. AddSeller adds more.
	Sellers map[string]string
	// Buyers maps buyer names to their credit balances; nil: DefaultBuyer with
	// DefaultBuyerBalance. AddBuyer adds more.
	Buyers map[string]int64
	// NotifyMethod is how results reach the notify URL: http.MethodGet (the default), with
	// the result appended to the URL, or http.MethodPost, with the result as a form body and
	// the URL as it is.
	NotifyMethod string
	// Redelivery of a result: the first retry waits RetryMinWait (DefaultRetryMinWait), each
	// later one twice as long as the one before, at most RetryMaxWait. RetryMaxWait
	// defaults to RetryMinWait: a fixed interval, as Entrecard's is assumed to be.
	RetryMinWait time.Duration
	RetryMaxWait time.Duration
	// MaxDeliveryAttempts bounds the deliveries of one result; DefaultMaxDeliveryAttempts.
	MaxDeliveryAttempts int
	// NotifyClient sends results; nil: a client of the server's own with
	// DefaultDeliveryTimeout that follows no redirects.
	NotifyClient *http.Client
	// Escrow makes paid transactions end in "escrow" instead of "complete".
	Escrow bool
	// FirstTransactionID is the first transaction_id; DefaultFirstTransactionID.
	FirstTransactionID int64

	// Now is the server's clock (Transaction.Created, Call.Time); nil: time.Now. Advance
	// moves it forward.
	Now func() time.Time
}

// Server is a running fake of Entrecard's Payments API. Create it with NewServer and Close
// it when done. It is safe for concurrent use.
type Server struct {
	// URL is the base URL of the fake, "http://127.0.0.1:port", with no trailing slash. Use
	// it as the client's Config.BaseURL.
	URL string

	// Controls gives the methods every paykit fake has, documented there:
	//
	//	FailNext(n, status int, opts ...FaultOption)  DropNext(n int, opts ...FaultOption)
	//	MalformedNext(n int, opts ...FaultOption)      SetLatency(d time.Duration)  ClearFaults()
	//	CallLog() []Call  Calls(method, route string) int
	//	Deliveries() []Delivery  WaitDelivered(ctx, paymentID string) error
	//	Redeliver(ctx, paymentID string) (int, error)
	*fakeserver.Controls

	cfg     Config
	fake    *fakeserver.Server // HTTP server, faults, latency, call log, result deliveries, Close
	browser *http.Client

	mu        sync.Mutex
	escrow    bool
	sellers   map[string]*seller
	buyers    map[string]int64
	fees      int64
	nextTxn   int64
	txns      []*Transaction
	byTxn     map[string]*Transaction
	opened    map[string]*url.URL // item id → the buy link the browser opened last
	built     map[string]string   // item id → the buy link a client in this process built last
	redirects map[string]string   // item id → where the browser was sent last
	stopWatch func()              // ends the reports of built links (internal/buylinks)
}

type seller struct {
	secret  string
	balance int64
}

// NewServer starts a fake Entrecard on a loopback port.
func NewServer(cfg Config) *Server {
	if cfg.Sellers == nil {
		cfg.Sellers = map[string]string{DefaultSellerID: DefaultSecret}
	}
	if cfg.Buyers == nil {
		cfg.Buyers = map[string]int64{DefaultBuyer: DefaultBuyerBalance}
	}
	if cfg.NotifyMethod == "" {
		cfg.NotifyMethod = http.MethodGet
	}
	if cfg.RetryMinWait <= 0 {
		cfg.RetryMinWait = DefaultRetryMinWait
	}
	if cfg.RetryMaxWait <= 0 {
		cfg.RetryMaxWait = cfg.RetryMinWait
	}
	if cfg.MaxDeliveryAttempts <= 0 {
		cfg.MaxDeliveryAttempts = DefaultMaxDeliveryAttempts
	}
	if cfg.FirstTransactionID <= 0 {
		cfg.FirstTransactionID = DefaultFirstTransactionID
	}
	s := &Server{
		cfg:       cfg,
		escrow:    cfg.Escrow,
		sellers:   make(map[string]*seller),
		buyers:    make(map[string]int64),
		nextTxn:   cfg.FirstTransactionID,
		byTxn:     make(map[string]*Transaction),
		opened:    make(map[string]*url.URL),
		built:     make(map[string]string),
		redirects: make(map[string]string),
	}
	for id, secret := range cfg.Sellers {
		s.sellers[id] = &seller{secret: secret}
	}
	for name, balance := range cfg.Buyers {
		s.buyers[name] = balance
	}
	s.fake = fakeserver.New(fakeserver.Config{
		Route:  route,
		Handle: s.handleWithPages, // the /buy page as HTML to a browser (pages.go)
		Fail: func(status int) response {
			return textResponse(status, "Failure injected by entrecardtest.FailNext.")
		},
		Malformed:    malformed,
		MaxBody:      maxForm,
		Now:          cfg.Now,
		NotifyClient: cfg.NotifyClient,
		Retry:        fakeserver.Retry{MinWait: cfg.RetryMinWait, MaxWait: cfg.RetryMaxWait, MaxAttempts: cfg.MaxDeliveryAttempts},
	})
	s.URL, s.Controls = s.fake.URL, s.fake.Controls
	// Links that clients of this process build for this server: Pay and the other controls
	// open them as the buyer would, so a test need not hand the link over with Open.
	own, _ := url.Parse(s.URL)
	s.stopWatch = buylinks.Watch(own.Host, func(itemID, link string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.built[itemID] = link
	})
	// The buyer's browser stops at every redirect: control methods return where it would go.
	browser := *s.fake.Client()
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.browser = &browser
	return s
}

// Close stops the server: it ends slow answers, stops redeliveries (a result not yet
// answered 200 stays undelivered) and waits for its goroutines. Calling it again does
// nothing.
func (s *Server) Close() {
	s.stopWatch()
	s.fake.Close()
}

// Client returns an *http.Client that talks to the server (its transport is closed by
// Close). It follows redirects, unlike the buyer's browser of the control methods, which
// stops at each to report it (Redirect).
func (s *Server) Client() *http.Client { return s.fake.Client() }

// Now is the server's clock: Config.Now plus everything Advance added. It dates
// transactions (Transaction.Created) and calls (Call.Time).
func (s *Server) Now() time.Time { return s.fake.Now() }

// Advance moves the server's clock forward by d (backward when d is negative). Entrecard's
// links and results do not expire, so only the dates the fake records move.
func (s *Server) Advance(d time.Duration) { s.fake.Advance(d) }

// AddSeller adds a seller, or changes the secret of a known one.
func (s *Server) AddSeller(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl, ok := s.sellers[id]; ok {
		sl.secret = secret
		return
	}
	s.sellers[id] = &seller{secret: secret}
}

// AddBuyer adds a buyer with balance credits, or sets the balance of a known one.
func (s *Server) AddBuyer(name string, balance int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buyers[name] = balance
}

// Balance returns a buyer's credits (0 for an unknown buyer).
func (s *Server) Balance(buyer string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buyers[buyer]
}

// SellerBalance returns the credits a seller received through the Payments API: 87.5 % of
// each paid total (entrecard.SellerProceeds).
func (s *Server) SellerBalance(sellerID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl, ok := s.sellers[sellerID]; ok {
		return sl.balance
	}
	return 0
}

// Fees returns the credits Entrecard kept: 12.5 % of each paid total (entrecard.Fee).
func (s *Server) Fees() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fees
}

// SetEscrow makes later paid transactions end in "escrow" (true) or "complete" (false).
func (s *Server) SetEscrow(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.escrow = on
}

// The types, values and options every paykit fake shares (internal/fakeserver), under the
// same names in each fake.
type (
	// Call is one HTTP call the server received, as CallLog returns it.
	Call = fakeserver.Call
	// Fault names a misbehaviour injected into a call (Call.Fault).
	Fault = fakeserver.Fault
	// FaultOption refines FailNext, DropNext and MalformedNext: see OnRoute and RetryAfter.
	FaultOption = fakeserver.FaultOption
	// Delivery is one result the server sent or tried to send to a notify URL, with its
	// attempts; its PaymentID is the item id and its Event the result's status word.
	Delivery = fakeserver.Delivery
	// Attempt is one sending of a result.
	Attempt = fakeserver.Attempt
)

// The faults.
const (
	FaultNone      = fakeserver.FaultNone
	FaultFail      = fakeserver.FaultFail      // FailNext: answered with an error page, not processed
	FaultDrop      = fakeserver.FaultDrop      // DropNext: processed, connection closed without an answer
	FaultMalformed = fakeserver.FaultMalformed // MalformedNext: processed, answered 200 with a page cut short
	FaultCanceled  = fakeserver.FaultCanceled  // the caller went away (or Close came) during SetLatency's wait
)

// OnRoute limits a fault to calls of one route (a Route… constant) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are.
// Entrecard's only HTTP client is the buyer's browser, so faults hit the pages the control
// methods visit.
func OnRoute(method, route string) FaultOption { return fakeserver.OnRoute(method, route) }

// RetryAfter makes FailNext's answers carry a Retry-After header with value v (seconds, as
// "2", or an HTTP date). Other faults ignore it.
func RetryAfter(v string) FaultOption { return fakeserver.RetryAfter(v) }
