package entrecardtest

import (
	"time"

	"github.com/paykit/paykit/internal/fakeserver"
)

// The fault queue, the latency and the call log are the shared machinery of
// internal/fakeserver; this file gives them Entrecard's names and documentation.

// fault is a queued fault, as FaultOption sees it.
type fault = fakeserver.Fault

// FaultOption refines FailNext, DropNext and MalformedNext.
type FaultOption func(*fault)

// OnRoute limits the fault to calls of one route (a Route… constant) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are.
func OnRoute(method, route string) FaultOption { return fakeserver.OnRoute(method, route) }

// FailNext answers the next n calls with status and an error page, without processing them.
// Faults queue: each call takes the oldest matching one.
//
// Entrecard's only HTTP client is the buyer's browser, so faults hit the pages the control
// methods (Open, Confirm, Cancel, Leave) visit; they never touch result deliveries.
func (s *Server) FailNext(n, status int, opts ...FaultOption) {
	fakeserver.FailNext(s.fake, n, status, opts...)
}

// DropNext processes the next n calls (a confirmed purchase moves the credits and its result
// goes out) and then closes the connection without an answer, so the buyer never sees the
// redirect.
func (s *Server) DropNext(n int, opts ...FaultOption) {
	fakeserver.DropNext(s.fake, n, opts...)
}

// MalformedNext processes the next n calls and answers each with 200 and a page cut short:
// no redirect, no readable purchase details.
func (s *Server) MalformedNext(n int, opts ...FaultOption) {
	fakeserver.MalformedNext(s.fake, n, opts...)
}

// ClearFaults forgets every queued fault.
func (s *Server) ClearFaults() { s.fake.ClearFaults() }

// SetLatency makes every later call wait d before it is processed (0: no wait). A caller
// that gives up during the wait leaves the call unprocessed.
func (s *Server) SetLatency(d time.Duration) { s.fake.SetLatency(d) }

// Call is one HTTP call the server received.
type Call struct {
	Time    time.Time
	Method  string
	Path    string
	Route   string // a Route… constant, or "" for an unknown path
	Status  int    // the status answered; 0 when the connection was dropped or the caller left
	Handled int    // the status the call was processed with, before a fault changed it
	Fault   Fault  // the fault that hit the call, if any
}

// Fault names what went wrong with a call on purpose.
type Fault string

// The faults.
const (
	FaultNone      Fault = ""
	FaultFail      Fault = "fail"      // FailNext: answered with an error, not processed
	FaultDrop      Fault = "drop"      // DropNext: processed, connection closed
	FaultMalformed Fault = "malformed" // MalformedNext: processed, nonsense answered
	FaultCanceled  Fault = "canceled"  // the caller or Close ended a slow call first
)

// CallLog returns every call received so far, oldest first.
func (s *Server) CallLog() []Call {
	var out []Call
	for _, c := range s.fake.CallLog() {
		out = append(out, Call{
			Time: c.Time, Method: c.Method, Path: c.Path, Route: c.Route,
			Status: c.Status, Handled: c.Handled, Fault: Fault(c.Fault),
		})
	}
	return out
}

// Calls counts the calls of route with method ("" for any method).
func (s *Server) Calls(method, route string) int { return s.fake.Calls(method, route) }
