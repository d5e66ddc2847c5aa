package entrecard

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Order is what CreatePayment asked the buyer to pay, as a Store keeps it.
type Order struct {
	ID          string // the merchant's payment id, the link's item id
	Description string
	Quantity    int
	Cost        int64  // credits per unit
	BuyURL      string // the signed link, offered again while the payment is pending
	CreatedAt   time.Time
}

// Total returns Quantity × Cost, what a result for this order must carry.
func (o Order) Total() int64 { return int64(o.Quantity) * o.Cost }

// Entry is what a Store knows of one payment id.
type Entry struct {
	// Order is what CreatePayment asked for; nil when only results are known, e.g. a result
	// that arrived after a restart emptied an in-memory store.
	Order *Order
	// Results are the verified results for the id, one per transaction_id, in the order
	// they were first received.
	Results []Result
}

// Store remembers orders and verified results. The client's default is NewMemoryStore; a
// merchant with several replicas, or who must survive restarts, implements it over a
// database. Implementations must be safe for concurrent use, and SaveOrder and SaveResult
// must be atomic: two concurrent calls with one key store one value.
type Store interface {
	// SaveOrder stores o under o.ID unless an order with that id is stored already. It
	// returns the stored order, and created=false when it was the earlier one.
	SaveOrder(ctx context.Context, o Order) (stored Order, created bool, err error)
	// SaveResult stores r under r.TransactionID unless a result with that transaction id is
	// stored already. It returns the stored result, and created=false when it was the
	// earlier one: a redelivered result gets the first one back.
	SaveResult(ctx context.Context, r Result) (stored Result, created bool, err error)
	// Lookup returns what is stored for payment id; ok is false when nothing is.
	Lookup(ctx context.Context, id string) (e Entry, ok bool, err error)
}

// DefaultRetention is how long the in-memory Store (NewMemoryStore) keeps a payment after the
// last order or new result recorded for it.
const DefaultRetention = 30 * 24 * time.Hour

// MemoryStoreOption configures NewMemoryStore.
type MemoryStoreOption func(*memoryStore)

// WithRetention sets how long the in-memory Store keeps a payment (its order and its
// results) after the last order or new result recorded for it; 0 or less: DefaultRetention.
// Past it the payment is forgotten as after a restart: GetPayment answers
// paykit.ErrNotFound, and a result that arrives later is accepted and recorded as one for an
// unknown id (a redelivery of a forgotten result is recorded again).
func WithRetention(d time.Duration) MemoryStoreOption {
	return func(s *memoryStore) { s.retention = d }
}

// NewMemoryStore returns a Store kept in memory. It serves one process and forgets everything
// on restart, so it suits tests, demos and small shops; replicas, or a shop that must survive
// restarts, need a shared store (redisstore.NewEntrecardStore).
//
// It is bounded in time: a payment is forgotten DefaultRetention (30 days; WithRetention)
// after the last order or new result recorded for it, so a long-running process does not
// grow without limit. A payment costs about 970 bytes until its retention ends, with a
// typical order (a 32-character id; its buy link, about 420 bytes, is the largest part) and
// one result; about 120 of them are the retention's bookkeeping (BenchmarkMemoryStorePerEntry:
// 971 B/entry over 100,000 payments). Pruning is O(1) amortised per write.
func NewMemoryStore(opts ...MemoryStoreOption) Store {
	s := &memoryStore{byID: make(map[string]*memoryEntry), byTxn: make(map[string]Result),
		now: func() time.Time { return now() }}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if s.retention <= 0 {
		s.retention = DefaultRetention
	}
	return s
}

type memoryStore struct {
	mu        sync.Mutex
	retention time.Duration
	now       func() time.Time // the package's clock; tests give their own
	byID      map[string]*memoryEntry
	byTxn     map[string]Result
	// written lists ids in the order of their writes, which is the order they expire in:
	// pruning pops from its front, so a write costs O(1) amortised however many payments
	// are kept. An id written again is listed again, and its older listing is skipped when
	// popped (its entry's last write is later).
	written []writtenAt
}

type writtenAt struct {
	id string
	at time.Time
}

type memoryEntry struct {
	order   *Order
	results []Result
	last    time.Time // the last write: SaveOrder that created, SaveResult that created
}

func (s *memoryStore) SaveOrder(ctx context.Context, o Order) (Order, bool, error) {
	if err := ctx.Err(); err != nil {
		return Order{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	e := s.entryLocked(o.ID)
	if e.order != nil {
		return *e.order, false, nil
	}
	e.order = &o
	s.touchLocked(o.ID, e)
	return o, true, nil
}

func (s *memoryStore) SaveResult(ctx context.Context, r Result) (Result, bool, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	if first, ok := s.byTxn[r.TransactionID]; ok {
		return first, false, nil
	}
	s.byTxn[r.TransactionID] = r
	e := s.entryLocked(r.ID)
	e.results = append(e.results, r)
	s.touchLocked(r.ID, e)
	return r, true, nil
}

func (s *memoryStore) Lookup(ctx context.Context, id string) (Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Pruned here too, so that a payment past its retention is gone for every reader at the
	// same moment, not at the next write.
	s.pruneLocked()
	e, ok := s.byID[id]
	if !ok || (e.order == nil && len(e.results) == 0) {
		return Entry{}, false, nil
	}
	out := Entry{Results: slices.Clone(e.results)}
	if e.order != nil {
		o := *e.order
		out.Order = &o
	}
	return out, true, nil
}

// entryLocked returns id's entry, making an empty one; the caller records something in it
// and then calls touchLocked.
func (s *memoryStore) entryLocked(id string) *memoryEntry {
	e, ok := s.byID[id]
	if !ok {
		e = &memoryEntry{}
		s.byID[id] = e
	}
	return e
}

// touchLocked records a write to id's entry now, which starts its retention again.
func (s *memoryStore) touchLocked(id string, e *memoryEntry) {
	e.last = s.now()
	s.written = append(s.written, writtenAt{id: id, at: e.last})
}

// pruneLocked forgets the payments whose last write is older than the retention, oldest
// first, with their results' transaction ids.
func (s *memoryStore) pruneLocked() {
	cutoff := s.now().Add(-s.retention)
	n := 0
	for n < len(s.written) && s.written[n].at.Before(cutoff) {
		w := s.written[n]
		if e, ok := s.byID[w.id]; ok && e.last.Equal(w.at) {
			for _, r := range e.results {
				delete(s.byTxn, r.TransactionID)
			}
			delete(s.byID, w.id)
		}
		n++
	}
	if n > 0 {
		s.written = s.written[n:]
		if cap(s.written) > 1024 && len(s.written) < cap(s.written)/4 {
			// Give the popped front back now and then.
			s.written = append([]writtenAt(nil), s.written...)
		}
	}
}

// decisive picks the result that decides a payment's status: a complete (or escrow) one wins
// over any other, the first of them if the buyer paid twice through one link; else the latest.
func decisive(results []Result) (Result, bool) {
	if len(results) == 0 {
		return Result{}, false
	}
	for _, r := range results {
		if r.Status.IsComplete() {
			return r, true
		}
	}
	return results[len(results)-1], true
}
