package ecreditstest

import (
	"time"

	"github.com/paykit/paykit/internal/fakeserver"
)

// The fault queue, the latency and the call log are the shared machinery of
// internal/fakeserver; this file gives them eCredits' names and documentation.

// fault is a queued fault, as FaultOption sees it.
type fault = fakeserver.Fault

// FaultOption refines FailNext, DropNext and MalformedNext.
type FaultOption func(*fault)

// RetryAfter makes FailNext's answers carry a Retry-After header with value v (seconds, as
// "2", or an HTTP date). Other faults ignore it.
func RetryAfter(v string) FaultOption { return fakeserver.RetryAfter(v) }

// OnRoute limits the fault to calls of one route (a Route… constant) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are,
// /api/authentication included.
func OnRoute(method, route string) FaultOption { return fakeserver.OnRoute(method, route) }

// FailNext answers the next n API calls with status and a problem document, without
// processing them. Faults queue: each call takes the oldest matching one.
func (s *Server) FailNext(n, status int, opts ...FaultOption) {
	fakeserver.FailNext(s.fake, n, status, opts...)
}

// DropNext processes the next n API calls (their state changes happen) and then closes the
// connection without an answer.
//
// Note that Go's http.Transport resends an idempotent request (GET, or one with an
// Idempotency-Key header) by itself when a reused keep-alive connection closes like this,
// so a dropped GET may be invisible to the caller; a POST is not resent.
func (s *Server) DropNext(n int, opts ...FaultOption) {
	fakeserver.DropNext(s.fake, n, opts...)
}

// MalformedNext processes the next n API calls and answers each with 200 and a body that is
// not valid JSON (the real answer cut short).
func (s *Server) MalformedNext(n int, opts ...FaultOption) {
	fakeserver.MalformedNext(s.fake, n, opts...)
}

// ClearFaults forgets every queued fault.
func (s *Server) ClearFaults() { s.fake.ClearFaults() }

// SetLatency makes every later API call wait d before it is processed (0: no wait). A caller
// that gives up during the wait (its context ends) leaves the call unprocessed.
func (s *Server) SetLatency(d time.Duration) { s.fake.SetLatency(d) }

// Call is one API call the server received.
type Call struct {
	Time   time.Time // by the server's clock, when the call arrived
	Method string
	Path   string // the path as requested, e.g. /api/v1/requests/70df…/paid
	Query  string // the raw query, without '?'
	Route  string // the matched route (RouteRequestPaid, …); "" when no route matched
	// Status is the status of the answer the client got: 0 when it got none (DropNext, or it
	// went away during SetLatency's wait), 200 for MalformedNext.
	Status int
	// Handled is the status the fake's processing produced; 0 when the call was not processed
	// (FailNext, or the client went away first).
	Handled int
	Fault   Fault // the fault injected into the call, if any
}

// Fault names a misbehaviour injected into an API call.
type Fault string

// The faults.
const (
	FaultNone      Fault = ""
	FaultFail      Fault = "fail"      // FailNext: answered with an error status, not processed
	FaultDrop      Fault = "drop"      // DropNext: processed, connection closed without an answer
	FaultMalformed Fault = "malformed" // MalformedNext: processed, answered 200 with broken JSON
	FaultCanceled  Fault = "canceled"  // the client went away (or Close came) during SetLatency's wait; not processed
)

// CallLog returns every API call received so far, oldest first.
func (s *Server) CallLog() []Call {
	var out []Call
	for _, c := range s.fake.CallLog() {
		out = append(out, Call{
			Time: c.Time, Method: c.Method, Path: c.Path, Query: c.Query, Route: c.Route,
			Status: c.Status, Handled: c.Handled, Fault: Fault(c.Fault),
		})
	}
	return out
}

// Calls counts the API calls received with method and route (a Route… constant, or "" for
// calls that matched no route). An empty method counts every method.
func (s *Server) Calls(method, route string) int { return s.fake.Calls(method, route) }
