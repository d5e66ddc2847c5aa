package fakeserver

// Controls is the part of a fake's API that is the same in every paykit fake: the faults
// (FailNext, DropNext, MalformedNext, SetLatency, ClearFaults), the call log (CallLog,
// Calls) and the notifications (Deliveries, WaitDelivered, Redeliver). Each fake's Server
// embeds the *Controls of its fakeserver.Server, so that these methods have one
// implementation, one documentation and, by construction, one signature in every fake.
//
// Faults and latency hit the HTTP calls the fake serves; they never touch the control
// methods of the fake, nor the notifications it sends.
//
// It is safe for concurrent use.
type Controls struct {
	s *Server
}
