// Package buylinks tells the entrecardtest fakes running in this process about the buy links
// entrecard clients build for them. Entrecard hears of a payment only when the buyer's
// browser opens its link, and the SDK makes no call of its own, so without this a fake could
// not play the buyer paying a payment whose link a test never handed it; with it, a fake's
// Pay(paymentID) opens the link a client built, as the buyer would.
//
// A client reports a link with Built, which costs one atomic load when no fake watches (in
// production none does); a fake watches the links to its own host with Watch, and stops when
// it closes. Nothing is kept here: a fake keeps what it was told.
package buylinks

import (
	"sync"
	"sync/atomic"
)

type watcher struct {
	host string
	fn   func(itemID, link string)
}

var (
	watching atomic.Int32 // the number of watchers, so that Built costs nothing without one
	mu       sync.RWMutex
	watchers = map[*watcher]struct{}{}
)

// Watch calls fn with every link built in this process, from now until stop is called, whose
// base URL has host (host:port, as url.URL.Host) — a fake's own. fn runs on the building
// goroutine and must not block. stop may be called more than once.
func Watch(host string, fn func(itemID, link string)) (stop func()) {
	w := &watcher{host: host, fn: fn}
	mu.Lock()
	watchers[w] = struct{}{}
	watching.Add(1)
	mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			delete(watchers, w)
			watching.Add(-1)
			mu.Unlock()
		})
	}
}

// Built reports that a client built link, a buy link for itemID whose base URL has host.
func Built(host, itemID, link string) {
	if watching.Load() == 0 {
		return
	}
	mu.RLock()
	var fns []func(itemID, link string)
	for w := range watchers {
		if w.host == host {
			fns = append(fns, w.fn)
		}
	}
	mu.RUnlock()
	for _, fn := range fns {
		fn(itemID, link)
	}
}
