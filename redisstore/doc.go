// Package redisstore keeps paykit's shared state in Redis, so that several replicas of a
// merchant's backend behave as one: a notification is processed once whichever replica it
// reaches, the replicas together keep to a provider's rate limit, Entrecard's results
// survive restarts and read the same everywhere, and a paykit.Router on any replica finds
// the provider that owns a payment.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"}) // or a Sentinel or Cluster client
//	dedupe := redisstore.NewDedupStore(rdb)                    // paykit.WithDedupStore(dedupe)
//	limiter := redisstore.NewLimiter(rdb, "echelon:"+merchantCode, 10, time.Second)
//	results := redisstore.NewEntrecardStore(rdb)               // entrecard.Config{Store: results}
//	owners := redisstore.NewOwnershipStore(rdb)                // paykit.WithOwnershipStore(owners)
//	watch := redisstore.NewWatchStore(rdb)                     // reconcile.WithStore(watch)
//
// Every constructor takes a redis.UniversalClient, so a single node, Sentinel or Cluster all
// work. Keys live under a prefix (WithPrefix, default "paykit:") and carry a hash tag, so
// every script touches keys of one Cluster slot. The scripts need Redis 3.2 or newer (they
// read TIME before writing); paykit's tests run against Redis 7.
//
// # Watch store
//
// NewWatchStore implements reconcile.Store, the watch list of the reconcile package's
// Reconciler: due times in a sorted set, each due payment leased to one replica by Claim with
// a token (reconcile.WithLease), so that each is read by one replica; a replica that dies
// mid-claim gives its payments back when the lease ends, and a late Reschedule under the old
// token changes nothing. Entries are dropped reconcile.DefaultStoreRetention after the first
// watch. Give the Reconcilers the same dedupe store as the webhook handlers.
//
// # Dedupe store
//
// NewDedupStore implements paykit.DedupStore. Claim takes a key with one atomic script: the
// first caller gets a lease (WithLease, default 5 minutes), a caller that finds the key
// processed is told so, and a caller that finds it held waits. A holder that dies without
// Finish loses the key when its lease ends, so the provider's redelivery is processed: the
// lease must be longer than the slowest handler function, or a redelivery arriving after it
// ends runs fn a second time. Finish(processed=true) keeps the key for WithRetention
// (default 7 days); Finish(false) releases it at once.
//
// A waiting Claim polls, with a backoff from 5 ms to 200 ms that never sleeps past the
// holder's lease, rather than subscribing to a channel: waits are rare (two copies of one
// notification arriving together), a go-redis subscription costs a connection of its own per
// waiter, and classic pub/sub in a Cluster is broadcast to every node. A poll is one script
// run of a few microseconds; a waiter is at most 200 ms late, against the tens of seconds a
// provider gives a notification.
//
// When Redis fails, Claim returns an error matching paykit.ErrStoreUnavailable (and so
// paykit.ErrUnavailable) and the webhook handler answers 503: the provider delivers again, and nothing is acknowledged that was not
// processed. A Finish that fails after fn succeeded is logged and the notification is still
// acknowledged (fn ran; a redelivery may run it again, the lesser harm).
//
// # Ownership store
//
// NewOwnershipStore implements paykit.OwnershipStore for the Router: Claim records a
// payment's owner with one atomic script unless it has one, Move hands it on only while the
// previous provider still owns it, and owners never expire (a refund may come months later).
// A Redis error is paykit.ErrStoreUnavailable, and the Router sends nothing then: its error
// reads `paykit: router: get payment "<id>": store unavailable: ownership store: redis: …`.
//
// # Errors and logs
//
// Every store reports a failed Redis call as an error of kind paykit.ErrStoreUnavailable,
// which also matches paykit.ErrUnavailable (retry logic keyed on it retries a store's outage
// too), or as the context's error when the caller's context ended the call. It names the
// store and reads `paykit: dedupe store: claim: store unavailable: redis: <go-redis error>`.
// The stores and the limiter log to the logger paykit.SetDefaultLogger set, unless
// WithLogger gives them one of their own.
//
// # Observing
//
// WithHooks reports the latency of every Redis round trip of the stores to paykit's
// Hooks.Store (otelpaykit.NewHooks records it in paykit.store.duration), under "redis
// dedupe", "redis ownership", "redis watch" and "redis entrecard", apart from the "dedupe"
// and "ownership" calls that webhook handlers, Routers and reconcilers report themselves.
// The watch and Entrecard stores are reported by nothing else.
//
// # Limiter
//
// NewLimiter implements paykit.Limiter: at most limit requests start in any window across
// every replica sharing the key. One script keeps the start times in a sorted set, timed by
// Redis's own clock (TIME inside the script), so replicas' clocks do not matter; when the
// window is full it answers how long to wait, and the caller sleeps that long (watching its
// context) instead of asking again and again. Within one process one caller at a time asks
// Redis, in the order they called Wait.
//
// The window is widened by a safety margin of min(40 ms, window/25), as for paykit's local
// limiter: a start is counted when Redis grants it, but a provider counts arrivals, a moment
// later and not always the same moment later. For EchelonPay (10 per second) that sustains
// 10 per 1.04 s, 9.6 requests per second.
//
// When Redis cannot be reached, Wait falls back to a local limiter of the same limit and
// window, logging a warning, so payments keep flowing; it tries Redis again at most once a
// second, in the background, and returns to the shared window (logging it) when Redis
// answers. The Wait that finds Redis gone first takes as long as the client's dial and retry
// settings make a failing command take (with go-redis's defaults, about 2 s for a refused
// connection); the waits after it do not ask Redis.
//
// Neither switch breaks the limit as one process sees it: no window (widened by the margin)
// holds more than limit starts of one limiter, counted in Redis and locally together. The
// fallback cannot know how many starts the window already holds, so it starts as if the last
// window were full: its first start comes a window and the margin after Redis was found gone
// (a pause of about a second for EchelonPay, once per outage). The way back counts first, in
// the shared window, the local starts still inside it, those the full window stood for
// included (a Redis that restarted without persistence forgot the starts it counted before
// it failed), aged by this process's clock against Redis's; only then do starts go through
// Redis again, so the shared window holds back the replicas' starts too until the local
// ones leave it. While Redis is down the replicas cannot see each other: N replicas may
// together start up to N × limit requests per window, and the provider refuses the excess
// with 429, which paykit's clients retry.
//
// # Entrecard store
//
// NewEntrecardStore implements entrecard.Store with the memory store's rules: an order is
// stored once per payment id, a result once per transaction id (a redelivery gets the first
// one back), and the results of a payment are listed in the order they first arrived. Each
// operation is one atomic script or transaction. The store's keys share one hash tag, because
// SaveResult must check the transaction id and append to the payment's results atomically;
// Entrecard's traffic (people buying with credits) is far below what one Cluster slot
// serves. Nothing expires: the store is the only record of a payment's results, so run
// Redis with persistence and without eviction of these keys. The Entrecard client reports
// the store's errors as paykit.ErrUnavailable or, more precisely, ErrStoreUnavailable (a
// notification then answers 503).
package redisstore
