package ecreditstest

import (
	"net/http"
	"time"
)

// FaultOption refines FailNext, DropNext and MalformedNext.
type FaultOption func(*fault)

// RetryAfter makes FailNext's answers carry a Retry-After header with value v (seconds, as
// "2", or an HTTP date). Other faults ignore it.
func RetryAfter(v string) FaultOption { return func(f *fault) { f.retryAfter = v } }

// OnRoute limits the fault to calls of one route (a Route… constant) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are,
// /api/authentication included.
func OnRoute(method, route string) FaultOption {
	return func(f *fault) { f.method, f.route, f.routed = method, route, true }
}

type fault struct {
	kind       Fault
	remaining  int
	status     int
	retryAfter string
	method     string
	route      string
	routed     bool
}

func (f *fault) matches(method, route string) bool {
	if !f.routed {
		return true
	}
	return (f.method == "" || f.method == method) && f.route == route
}

// FailNext answers the next n API calls with status and a problem document, without
// processing them. Faults queue: each call takes the oldest matching one.
func (s *Server) FailNext(n, status int, opts ...FaultOption) {
	s.addFault(&fault{kind: FaultFail, remaining: n, status: status}, opts)
}

// DropNext processes the next n API calls (their state changes happen) and then closes the
// connection without an answer.
//
// Note that Go's http.Transport resends an idempotent request (GET, or one with an
// Idempotency-Key header) by itself when a reused keep-alive connection closes like this,
// so a dropped GET may be invisible to the caller; a POST is not resent.
func (s *Server) DropNext(n int, opts ...FaultOption) {
	s.addFault(&fault{kind: FaultDrop, remaining: n}, opts)
}

// MalformedNext processes the next n API calls and answers each with 200 and a body that is
// not valid JSON (the real answer cut short).
func (s *Server) MalformedNext(n int, opts ...FaultOption) {
	s.addFault(&fault{kind: FaultMalformed, remaining: n}, opts)
}

// ClearFaults forgets every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetLatency makes every later API call wait d before it is processed (0: no wait). A caller
// that gives up during the wait (its context ends) leaves the call unprocessed.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = max(d, 0)
}

func (s *Server) addFault(f *fault, opts []FaultOption) {
	if f.remaining <= 0 {
		return
	}
	if f.kind == FaultFail && (f.status < 100 || f.status > 999) {
		f.status = http.StatusInternalServerError
	}
	for _, o := range opts {
		o(f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
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
