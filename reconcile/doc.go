// Package reconcile finds the final state of payments whose notifications never arrived: a
// provider that gave up after its retries, a deploy that swallowed a callback, a firewall,
// a misconfigured notify URL. A Reconciler keeps a watch list of payments that are not
// final, re-reads each through any paykit.Provider (a provider's client or a Router) on a
// backoff schedule, and feeds every state it reads into the webhook handler's once-only
// path: the same DedupStore and the same key (paykit.PaymentDedupKey: the provider, the
// payment's canonical id and its fetched state), so the merchant's function runs exactly once
// per state whether the notification, the poll or both see it, in either order, on any
// replica.
//
// # Use
//
//	dedup := redisstore.NewDedupStore(rdb)  // the webhook handler's store, shared
//	watch := redisstore.NewWatchStore(rdb)  // the watch list, shared
//	opts := []reconcile.Option{reconcile.WithStore(watch), reconcile.WithReport(alert)}
//	router, err := paykit.NewRouter(providers, routes,
//		paykit.WithWatcher(reconcile.NewWatcher(watch, opts...)))
//	rec, err := reconcile.New(router, dedup, onPayment, opts...)
//	mux.Handle("/webhooks/", router.WebhookHandler("/webhooks", onPayment,
//		paykit.WithDedupStore(dedup), paykit.WithOncePerState()))
//	go rec.Run(ctx) // a worker; or rec.RunOnce(ctx) from a cron job
//
// Enrolment: a Router given paykit.WithWatcher watches every payment it creates from before
// the create is sent (after the ownership record), so a crash at any point leaves no
// payment unwatched; a Watch that fails sends nothing. Capture, Refund and Cancel through the
// Router watch the payment again. Without a Router, call rec.Watch(ctx, id) after storing
// the id and before CreatePayment (a Reconciler is a paykit.Watcher too; NewWatcher exists
// because a Reconciler reading through a Router is built after it), and again after each
// Capture, Refund and Cancel returns, whatever its outcome: a pass that read the payment
// final (captured) while a refund was on its way has taken it off the list, and only a
// Watch made after the refund landed has its new state read.
//
// fn gets a paykit.Notification with Event "reconcile", the provider's name, the canonical
// payment id and the payment as read. An error (or a panic) in fn gives the state back: the
// payment is read again MinWait later and fn runs again, as a provider's redelivery would.
//
// # Schedule
//
// A watched payment is first read MinWait (30 s) after Watch, then after waits that double
// (60 s, 2 min, …) up to MaxWait (6 h); a read that finds a new state starts again from
// MinWait, and a payment that expires before its next read is read just after its ExpiresAt.
// It leaves the list when it is final (paykit.Status.IsFinal, or WithFinal) and fn ran for
// that state, or it is reported (WithReport, a warning log line, Stats) and dropped when:
//
//   - it is still not final ExpiryGrace (24 h) past its ExpiresAt (ReasonExpired);
//   - it has no ExpiresAt and is not final MaxAge (30 days) after it was first watched
//     (ReasonMaxAge): an authorization never captured, or a provider that cannot be read
//     back (Entrecard knows only the results it sent: a payment whose result was lost stays
//     pending in its store);
//   - the provider answered ErrNotFound for NotFoundFor (1 h) (ReasonNotFound): a create
//     that never reached it, or a payment it forgot.
//
// Reads that fail otherwise (5xx, timeouts) are read again on the same backoff.
//
// # Rate budget
//
// Polls never starve the merchant's own calls. The rule: every read first waits on the
// Reconciler's own limiter, at most 5 reads per second by default (WithRateLimit), half of
// EchelonPay's 10, and then on the provider client's limiter like any call. Polls thus
// take at most half of the provider's turns, and the merchant's calls, waiting in the same
// queue, always have the other half. Set WithRateLimit to at most half the tightest limit of
// the providers polled; replicas share one budget through WithLimiter(redisstore.NewLimiter(
// rdb, "reconcile", 5, time.Second)), or each gets half divided by their number. At 5 reads
// per second a pass reads 18,000 payments an hour: the watch list a shop can keep is
// bounded by that and by the backoff (a payment pending for a day costs about 15 reads).
//
// # Replicas
//
// Every replica runs a Reconciler on a shared Store (redisstore.NewWatchStore) and the
// shared DedupStore. Claim leases each due payment to one replica (WithLease, 5 min); a
// replica that dies mid-pass gives its claims back when their lease ends, and another
// replica reads them. Two replicas reading one payment (a lease that ended during a slow
// read) still run fn once per state: the DedupStore decides, not the watch list.
//
// # Signed events
//
// Entrecard's results carry a signed identity, which the webhook handler claims instead of
// the state. Give its handler paykit.WithOncePerState (the Router's WebhookHandler passes
// it on), so that it claims the state's key as well: without it, a result the handler
// processed and the same state read by a poll would each run fn.
//
// # Observing
//
// Stats counts what the Reconciler did. WithHooks reports each poll to paykit's Hooks, as
// clients, Routers and webhook handlers report theirs (otelpaykit.NewHooks makes them
// OpenTelemetry spans and metrics): one paykit.OpReconcile operation per payment read,
// named after the provider read through, with the payment id and the outcome; the read's
// GetPayment (and a Router's, with the provider's under it) and fn nest under it, and each
// call to the dedupe store is reported with its latency (Hooks.Store, "dedupe"). The
// Reconciler's own rate limit is waited on before the operation starts. The watch store's
// calls are reported by the store itself (redisstore.WithHooks).
//
// # Costs
//
// The in-memory Store (NewMemoryStore, the default) serves one process and forgets on
// restart; it is bounded in time (DefaultStoreRetention after the first Watch). It costs
// about 270 bytes per watched payment with a 36-byte id (BenchmarkMemoryStorePerEntry). A
// pass costs about 3 µs and 1 kB of garbage per payment besides the provider's read
// (BenchmarkPass, 10,000 payments); on Redis (redisstore.NewWatchStore, loopback) about 65
// µs per payment, two round trips (the dedupe claim and the reschedule; claims come 100 at a
// time), and about 460 bytes of Redis memory per watched payment. The reads themselves
// dominate: at the default budget of 5 per second, 10,000 due payments take 2,000 s.
package reconcile
