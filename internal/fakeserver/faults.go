package fakeserver

import "net/http"

// Kind names a misbehaviour injected into a call. Each fake exports its own Fault type with
// the same values.
type Kind string

// The kinds of fault.
const (
	None      Kind = ""
	Fail      Kind = "fail"      // FailNext: answered with Config.Fail, not processed
	Drop      Kind = "drop"      // DropNext: processed, connection closed without an answer
	Malformed Kind = "malformed" // MalformedNext: processed, answered through Config.Malformed
	Canceled  Kind = "canceled"  // the caller went away (or Close came) before processing
)

// Fault is a queued misbehaviour. A fake's FaultOption is a func(*Fault) under the fake's
// own name; OnRoute and RetryAfter make the options every fake shares.
type Fault struct {
	Kind       Kind
	Status     int    // Fail: the status answered
	RetryAfter string // Fail: the Retry-After header answered, if not empty

	remaining     int
	method, route string
	routed        bool
}

// OnRoute limits a fault to calls of route and method; an empty method matches every
// method. Without it a fault hits the next calls whatever they are.
func OnRoute(method, route string) func(*Fault) {
	return func(f *Fault) { f.method, f.route, f.routed = method, route, true }
}

// RetryAfter makes a Fail fault's answers carry a Retry-After header with value v. Other
// faults ignore it.
func RetryAfter(v string) func(*Fault) {
	return func(f *Fault) { f.RetryAfter = v }
}

func (f *Fault) matches(method, route string) bool {
	if !f.routed {
		return true
	}
	return (f.method == "" || f.method == method) && f.route == route
}

// FailNext makes the next n calls answer Config.Fail(status) without processing them. A
// status outside 100 to 999 is taken as 500. Faults queue: each call takes the oldest
// matching one. It is generic so that a fake can pass its own FaultOption type.
func FailNext[O ~func(*Fault)](s *Server, n, status int, opts ...O) {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	add(s, Fault{Kind: Fail, Status: status, remaining: n}, opts)
}

// DropNext makes the next n calls be processed and then closes their connections without
// an answer.
func DropNext[O ~func(*Fault)](s *Server, n int, opts ...O) {
	add(s, Fault{Kind: Drop, remaining: n}, opts)
}

// MalformedNext makes the next n calls be processed and answered through Config.Malformed.
func MalformedNext[O ~func(*Fault)](s *Server, n int, opts ...O) {
	add(s, Fault{Kind: Malformed, remaining: n}, opts)
}

func add[O ~func(*Fault)](s *Server, f Fault, opts []O) {
	if f.remaining <= 0 {
		return
	}
	for _, o := range opts {
		o(&f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults forgets every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns a copy of the oldest fault matching the call and uses it up once.
func (s *Server) takeFault(method, route string) Fault {
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
	return Fault{}
}
