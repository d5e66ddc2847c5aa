package entrecardtest

import (
	"net/http"
	"time"
)

// FaultOption refines FailNext, DropNext and MalformedNext.
type FaultOption func(*fault)

// OnRoute limits the fault to calls of one route (a Route… constant) and method; an empty
// method matches every method. Without it a fault hits the next calls whatever they are.
func OnRoute(method, route string) FaultOption {
	return func(f *fault) { f.method, f.route, f.routed = method, route, true }
}

type fault struct {
	kind      Fault
	remaining int
	status    int
	method    string
	route     string
	routed    bool
}

func (f *fault) matches(method, route string) bool {
	if !f.routed {
		return true
	}
	return (f.method == "" || f.method == method) && f.route == route
}

// FailNext answers the next n calls with status and an error page, without processing them.
// Faults queue: each call takes the oldest matching one.
//
// Entrecard's only HTTP client is the buyer's browser, so faults hit the pages the control
// methods (Open, Confirm, Cancel, Leave) visit; they never touch result deliveries.
func (s *Server) FailNext(n, status int, opts ...FaultOption) {
	s.addFault(&fault{kind: FaultFail, remaining: n, status: status}, opts)
}

// DropNext processes the next n calls (a confirmed purchase moves the credits and its result
// goes out) and then closes the connection without an answer, so the buyer never sees the
// redirect.
func (s *Server) DropNext(n int, opts ...FaultOption) {
	s.addFault(&fault{kind: FaultDrop, remaining: n}, opts)
}

// MalformedNext processes the next n calls and answers each with 200 and a page cut short:
// no redirect, no readable purchase details.
func (s *Server) MalformedNext(n int, opts ...FaultOption) {
	s.addFault(&fault{kind: FaultMalformed, remaining: n}, opts)
}

// ClearFaults forgets every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetLatency makes every later call wait d before it is processed (0: no wait). A caller
// that gives up during the wait leaves the call unprocessed.
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
