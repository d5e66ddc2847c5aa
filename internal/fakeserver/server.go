package fakeserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxBody       = 1 << 20         // bound of the request bodies read
	DefaultNotifyTimeout = 5 * time.Second // bound of one notification attempt
)

// Config plugs a provider into a Server. Route, Handle, Fail and Malformed are required.
type Config struct {
	// Route returns the route pattern of a request path (one of the fake's Route…
	// constants), or "" when no route matches. Faults are matched against it and calls are
	// logged with it.
	Route func(path string) string
	// Handle processes a call whose route is route and returns the answer. It runs after
	// SetLatency's wait, and not at all for a FailNext fault. r.Body holds the body read up
	// front: at most MaxBody+1 bytes, so that a handler can tell a body that is too long.
	Handle func(r *http.Request, route string) Response
	// Fail returns the provider's error answer with status, for FailNext.
	Fail func(status int) Response
	// Malformed turns a processed answer into what MalformedNext sends: a 200 the client
	// cannot read (typically the real body cut short).
	Malformed func(Response) Response
	// MaxBody bounds the request bodies read; DefaultMaxBody when zero or less.
	MaxBody int64
	// Now is the server's clock before Advance; nil: time.Now.
	Now func() time.Time

	// NotifyURL is where a notification goes when neither Notify nor SetPaymentNotifyURL
	// gave one for its payment; SetNotifyURL changes it. Empty: such notifications are not
	// sent (WaitDelivered says ErrNoNotifyURL).
	NotifyURL string
	// NotifyClient sends notifications; nil: a client of the server's own with
	// DefaultNotifyTimeout over a clone of http.DefaultTransport, whose idle connections
	// Close closes (or over http.DefaultTransport itself when a test replaced it with
	// another RoundTripper, such as httpmock's, which then sees every notification).
	NotifyClient *http.Client
	// Retry is how notifications that were not answered 200 are sent again.
	Retry Retry
	// PaymentKey maps a payment id to the key payments are told apart by (eCredits compares
	// ids ignoring case: strings.ToLower); nil: the id as it is.
	PaymentKey func(id string) string
}

// Response is an answer built by a handler before it goes on the wire, so that a fault can
// replace it after processing.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// write sends resp to w.
func (resp Response) write(w http.ResponseWriter) {
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// Call is one HTTP call the server received. Each fake re-exports it as a type alias.
type Call struct {
	Time   time.Time // by the server's clock, when the call arrived
	Method string
	Path   string // as requested
	Query  string // the raw query, without '?'
	Route  string // Config.Route's answer; "" when no route matched
	// Status is the status of the answer the caller got: 0 when it got none (Drop, or it went
	// away or Close came during SetLatency's wait), 200 for Malformed.
	Status int
	// Handled is the status Config.Handle produced; 0 when the call was not processed (Fail,
	// or the caller went away first).
	Handled int
	Fault   Fault // the fault injected into the call, if any
}

// Server is a running fake: an httptest.Server on a loopback port serving the provider
// through Config's hooks. It is safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", with no trailing slash.
	URL string
	// Controls is the API every fake shares; a fake's Server embeds this same pointer.
	*Controls

	cfg       Config
	ts        *httptest.Server
	offset    atomic.Int64 // added to cfg.Now, in nanoseconds
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	notify    *http.Client
	ownNotify bool // notify's transport is the server's own: Close closes its idle connections

	mu          sync.Mutex
	closed      bool
	latency     time.Duration
	faults      []*fault
	calls       []Call
	notifyURL   string
	paymentURLs map[string]string // payment key → the notify URL the payment was made with
	deliveries  []*Delivery
	changed     chan struct{} // closed and replaced whenever a delivery changes
	lose        losing        // LoseNotifications, LosePaymentNotifications
}

// New starts a Server. It panics when a required hook of cfg is missing.
func New(cfg Config) *Server {
	if cfg.Route == nil || cfg.Handle == nil || cfg.Fail == nil || cfg.Malformed == nil {
		panic("fakeserver: Config needs Route, Handle, Fail and Malformed")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PaymentKey == nil {
		cfg.PaymentKey = func(id string) string { return id }
	}
	cfg.Retry = cfg.Retry.withDefaults()
	s := &Server{
		cfg:         cfg,
		notify:      cfg.NotifyClient,
		notifyURL:   cfg.NotifyURL,
		paymentURLs: make(map[string]string),
		changed:     make(chan struct{}),
	}
	s.Controls = &Controls{s: s}
	if s.notify == nil {
		// A clone of the standard transport, whose idle connections are the server's own to
		// close. A test that replaced http.DefaultTransport with another RoundTripper
		// (httpmock, a recorder) gets it as it is, so that it sees the notifications too, and
		// Close leaves its connections alone.
		var tr http.RoundTripper = http.DefaultTransport
		if std, ok := tr.(*http.Transport); ok {
			tr = std.Clone()
			s.ownNotify = true
		}
		s.notify = &http.Client{
			Timeout:   DefaultNotifyTimeout,
			Transport: tr,
			// A redirect is an answer other than 200, retried like any other: providers
			// do not follow them.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

// Close stops the server: it marks it closed, ends its Context (which ends SetLatency's
// waits, Sleep, notification retries and whatever else the goroutines started by Go watch
// it for), waits for the calls in progress and then for those goroutines. A notification
// not answered 200 by then stays undelivered. It reports whether this call closed the
// server: false when it was closed already, and then does nothing.
func (s *Server) Close() bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.closed = true
	s.cancel()
	s.changedLocked() // wake WaitDelivered
	s.mu.Unlock()

	s.ts.Close()
	s.wg.Wait()
	if s.ownNotify {
		s.notify.CloseIdleConnections()
	}
	return true
}

// Closed reports whether Close was called.
func (s *Server) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Context ends when Close is called. Requests the fake sends on its own (notifications)
// should use it, and waits should watch it.
func (s *Server) Context() context.Context { return s.ctx }

// Go runs f in a goroutine that Close waits for, unless the server is closed: then it
// reports false and f does not run. f should end soon after Context ends.
func (s *Server) Go(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.goLocked(f)
}

// goLocked is Go with s.mu held.
func (s *Server) goLocked(f func()) bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Sleep waits d, or less when Close comes first. It reports whether the server is still
// open: false also when the wait ended at the moment Close came.
func (s *Server) Sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
	return s.ctx.Err() == nil
}

// Client returns an *http.Client that talks to the server (its transport is closed by
// Close).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Now is the server's clock: Config.Now plus everything Advance added.
func (s *Server) Now() time.Time {
	return s.cfg.Now().Add(time.Duration(s.offset.Load()))
}

// Advance moves the server's clock forward by d (backward when d is negative).
func (s *Server) Advance(d time.Duration) { s.offset.Add(int64(d)) }

// SetLatency makes every later call wait d before it is processed (0: no wait). A caller
// that gives up during the wait (its context ends) leaves the call unprocessed; Close ends
// the wait and drops the connection.
func (c *Controls) SetLatency(d time.Duration) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.latency = max(d, 0)
}

// CallLog returns every call the server received so far, oldest first. A caller that got an
// answer finds its call logged.
func (c *Controls) CallLog() []Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return append([]Call(nil), c.s.calls...)
}

// Calls counts the calls received with method and route (one of the fake's Route…
// constants, or "" for calls that matched no route). An empty method counts every method.
func (c *Controls) Calls(method, route string) int {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n := 0
	for _, call := range c.s.calls {
		if (method == "" || call.Method == method) && call.Route == route {
			n++
		}
	}
	return n
}

func (s *Server) logCall(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}
