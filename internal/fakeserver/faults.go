package fakeserver

import "net/http"

// Fault names a misbehaviour injected into a call, as Call.Fault records it. Each fake
// re-exports it as a type alias with these constants, so that every fake has the same
// names.
type Fault string

// The faults.
const (
	FaultNone      Fault = ""
	FaultFail      Fault = "fail"      // FailNext: answered with an error status, not processed
	FaultDrop      Fault = "drop"      // DropNext: processed, connection closed without an answer
	FaultMalformed Fault = "malformed" // MalformedNext: processed, answered 200 with a broken body
	FaultCanceled  Fault = "canceled"  // the caller went away (or Close came) during SetLatency's wait; not processed
)

// fault is a queued misbehaviour.
type fault struct {
	kind       Fault
	status     int    // FaultFail: the status answered
	retryAfter string // FaultFail: the Retry-After header answered, if not empty

	remaining     int
	method, route string
	routed        bool
}

// FaultOption refines FailNext, DropNext and MalformedNext. Each fake re-exports it as a
// type alias, with OnRoute and RetryAfter as functions of its own that return it.
type FaultOption func(*fault)

// OnRoute limits a fault to calls of route (one of the fake's Route… constants) and method;
// an empty method matches every method. Without it a fault hits the next calls whatever
// they are.
func OnRoute(method, route string) FaultOption {
	return func(f *fault) { f.method, f.route, f.routed = method, route, true }
}

// RetryAfter makes a FailNext fault's answers carry a Retry-After header with value v
// (seconds, as "2", or an HTTP date). Other faults ignore it.
func RetryAfter(v string) FaultOption {
	return func(f *fault) { f.retryAfter = v }
}

func (f *fault) matches(method, route string) bool {
	if !f.routed {
		return true
	}
	return (f.method == "" || f.method == method) && f.route == route
}

// FailNext answers the next n calls with the provider's error answer for status, without
// processing them. A status outside 100 to 999 is taken as 500. Faults queue: each call
// takes the oldest matching one.
func (c *Controls) FailNext(n, status int, opts ...FaultOption) {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	c.s.addFault(fault{kind: FaultFail, status: status, remaining: n}, opts)
}

// DropNext processes the next n calls (their state changes happen, notifications included)
// and then closes each connection without an answer, as a network failure after the
// provider acted would.
//
// Go's http.Transport resends an idempotent request (a GET, or one with an Idempotency-Key
// header) by itself when a reused keep-alive connection closes like this, so a dropped GET
// may be invisible to the caller; a POST is not resent.
func (c *Controls) DropNext(n int, opts ...FaultOption) {
	c.s.addFault(fault{kind: FaultDrop, remaining: n}, opts)
}

// MalformedNext processes the next n calls and answers each with 200 and a body the client
// cannot read (typically the real answer cut short).
func (c *Controls) MalformedNext(n int, opts ...FaultOption) {
	c.s.addFault(fault{kind: FaultMalformed, remaining: n}, opts)
}

// ClearFaults forgets every queued fault.
func (c *Controls) ClearFaults() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.faults = nil
}

func (s *Server) addFault(f fault, opts []FaultOption) {
	if f.remaining <= 0 {
		return
	}
	for _, o := range opts {
		if o != nil {
			o(&f)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// takeFault returns a copy of the oldest fault matching the call and uses it up once.
func (s *Server) takeFault(method, route string) fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.matches(method, route) {
			continue
		}
		f.remaining--
		if f.remaining <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return *f
	}
	return fault{}
}
