// Package fakeserver is the shared machinery of paykit's <provider>test fakes
// (ecreditstest, entrecardtest, echelontest, ecstertest): the in-process HTTP server and its
// lifecycle, the server's clock, the faults (FailNext, DropNext, MalformedNext, SetLatency),
// the call log, and the delivery of notifications with retries. What a provider answers
// stays in its fake: routes, state machines, credentials, signatures and error bodies.
//
// A merchant's test must read the same whatever the provider, so the API every fake shares
// is defined once, here, as Controls, and each fake's Server embeds it.
//
// # Every call
//
//  1. The route is found (Config.Route) and the call is logged on the way out.
//  2. The body is read (at most Config.MaxBody+1 bytes) and handed to the handler again, so
//     that the server watches the connection from here on: a caller that goes away during
//     the wait below ends the request's context even for a POST.
//  3. SetLatency's wait. A caller that gives up during it leaves the call unprocessed
//     (FaultCanceled); Close ends it too, dropping the connection.
//  4. The oldest queued fault matching the method and route is taken. FailNext's answers
//     Config.Fail's error without processing the call.
//  5. Config.Handle processes the call into a Response, kept off the wire so that DropNext
//     can close the connection instead and MalformedNext can pass it through
//     Config.Malformed.
//  6. The call is logged, then the answer written: a caller that got an answer finds its
//     call in CallLog.
//
// # Every notification
//
// The fake calls Server.Notify with a Notification for a payment (URL, method, headers,
// body); the server sends it in the background until the receiver answers exactly 200 (a
// 204 or a redirect is retried), waiting Config.Retry's growing interval between attempts,
// for at most Config.Retry.MaxAttempts attempts; Close stops it. Deliveries lists every
// notification with its attempts, WaitDelivered(ctx, paymentID) waits for a payment's, and
// Redeliver replays one. LoseNotifications(share, seed) and LosePaymentNotifications(id)
// make notifications that are never sent at all (Delivery.Lost, ErrLost), for tests of what
// finds a payment's state when no notification arrives (package reconcile).
//
// # How to build a fake
//
// A new fake (say echelontest) follows ecreditstest and entrecardtest. Its Server holds the
// fakeserver.Server and embeds its Controls, which gives it FailNext, DropNext,
// MalformedNext, SetLatency, ClearFaults, CallLog, Calls, Deliveries, WaitDelivered and
// Redeliver with no code of its own:
//
//	type Server struct {
//		URL string
//		// Controls: FailNext, DropNext, … (the same in every paykit fake).
//		*fakeserver.Controls
//		fake *fakeserver.Server
//		…
//	}
//
//	s.fake = fakeserver.New(fakeserver.Config{
//		Route: route, Handle: s.handle, Fail: failAnswer, Malformed: cutShort,
//		NotifyURL: cfg.NotifyURL, NotifyClient: cfg.NotifyClient,
//		Retry: fakeserver.Retry{MinWait: cfg.RetryMinWait, MaxWait: cfg.RetryMaxWait, MaxAttempts: cfg.MaxDeliveryAttempts},
//	})
//	s.URL, s.Controls = s.fake.URL, s.fake.Controls
//
// Then:
//
//  1. Embedding, not wrapper methods: one implementation and one doc comment per method,
//     and the compiler, not a reviewer, keeps the signatures equal. go doc does not list
//     promoted methods, so the comment on the embedded field names them, and the fake's
//     package doc says they are documented on Controls.
//  2. Next to Server it re-exports the shared types and values under the same names, so
//     that its users, who cannot import an internal package, can name them and every fake
//     has the same ones: type aliases Call, Fault, FaultOption, Delivery and Attempt; the
//     constants FaultNone … FaultCanceled; the errors ErrClosed, ErrGaveUp, ErrLost,
//     ErrNoNotifyURL and ErrUnknownPayment (the same values); and two one-line functions,
//     OnRoute and RetryAfter, whose comments name its Route… constants.
//  3. Routes: Route… constants, the patterns Config.Route returns, which CallLog, Calls and
//     OnRoute use. Config.Handle answers every call (404 and 405 included) as the provider
//     does; Config.Fail is the provider's error body for FailNext; Config.Malformed makes a
//     200 the client cannot read. Handlers read the server's clock (Server.Now, moved by
//     Advance) for expiry.
//  4. Notifications: when a payment is created with a notify URL, call
//     Server.SetPaymentNotifyURL(paymentID, url); when the provider would notify, call
//     Server.Notify with the merchant's payment id, the provider's event word (what the
//     SDK's ParseNotification puts in Notification.Event), and the method, headers and body
//     the provider sends (signed as it signs, by the fake's own code, so that the SDK's
//     tests compare two implementations). A provider with a portal-wide URL, or a fallback
//     for payments created without one, passes its Config's URL as Config.NotifyURL (and
//     Server.SetNotifyURL to change it), and the client that sends them Config.NotifyClient:
//     these names in every fake, whatever the provider's own word. Its Config has the retry settings, RetryMinWait,
//     RetryMaxWait and MaxDeliveryAttempts (the real interval may be hours, as Ecster's 2;
//     make it settable, with a default of milliseconds), and a client for notifications.
//  5. Control and inspection methods take the merchant's payment id, never a provider's id
//     or a URL (only a method that plays the browser following a link takes the link, as
//     entrecardtest.Open does; its Pay opens the link the client built when no link was
//     opened). The customer pays with Pay(paymentID string) (string,
//     error), which returns the provider's id of what the payment made (eCredits: the
//     transaction hash; Entrecard: the transaction_id); the provider's actions are
//     Expire(paymentID string) error and, where the provider has them, Decline and Block
//     with the same shape. A control that plays the buyer over the fake's own pages takes a
//     ctx first (entrecardtest.Confirm(ctx, paymentID, buyer)), so that a test can give up
//     during SetLatency; Pay stays without one, bounded by the server's life. Inspection
//     methods return a snapshot and a found flag. Control methods return ErrClosed after
//     Close, and ErrUnknownPayment (wrapped, naming the id) for an id the fake does not know.
//  6. Close calls Server.Close. The package doc states what is faithful to the provider's
//     document and what is assumed, and its Example is a whole merchant test: create the
//     merchant's listener and mux first, then the fake (with the notify URL in its Config),
//     then the client and paykit.NewWebhookHandler on the mux; create a payment through
//     paykit.Provider, pay it with the control method, WaitDelivered, and GetPayment.
package fakeserver
