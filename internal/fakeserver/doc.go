// Package fakeserver is the shared machinery of paykit's <provider>test fakes
// (ecreditstest, entrecardtest, …): the in-process HTTP server and its lifecycle, the
// server's clock, the fault queue behind FailNext, DropNext and MalformedNext, SetLatency,
// and the call log. What a provider answers stays in its fake: routes, state machines,
// error bodies and notification delivery. A fake plugs those in through Config's hooks and
// keeps its own exported API, documented for its users, as thin wrappers over a Server.
//
// Every call goes through the same steps:
//
//  1. The route is found (Config.Route) and the call is logged on the way out.
//  2. The body is read (at most Config.MaxBody+1 bytes) and handed to the handler again, so
//     that the server watches the connection from here on: a caller that goes away during
//     the wait below ends the request's context even for a POST.
//  3. SetLatency's wait. A caller that gives up during it leaves the call unprocessed
//     (Canceled); Close ends it too, dropping the connection.
//  4. The oldest queued fault matching the method and route is taken. Fail answers
//     Config.Fail's error without processing the call.
//  5. Config.Handle processes the call into a Response, kept off the wire so that Drop can
//     close the connection instead and Malformed can pass it through Config.Malformed.
//  6. The call is logged, then the answer written: a caller that got an answer finds its
//     call in CallLog.
package fakeserver
