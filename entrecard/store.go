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
	Reference   string // the merchant's order reference (default ID)
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

// NewMemoryStore returns a Store kept in memory. It serves one process, forgets everything
// on restart and never drops anything, so it suits tests, demos and small shops.
func NewMemoryStore() Store {
	return &memoryStore{byID: make(map[string]*memoryEntry), byTxn: make(map[string]Result)}
}

type memoryStore struct {
	mu    sync.Mutex
	byID  map[string]*memoryEntry
	byTxn map[string]Result
}

type memoryEntry struct {
	order   *Order
	results []Result
}

func (s *memoryStore) SaveOrder(ctx context.Context, o Order) (Order, bool, error) {
	if err := ctx.Err(); err != nil {
		return Order{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entryLocked(o.ID)
	if e.order != nil {
		return *e.order, false, nil
	}
	e.order = &o
	return o, true, nil
}

func (s *memoryStore) SaveResult(ctx context.Context, r Result) (Result, bool, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if first, ok := s.byTxn[r.TransactionID]; ok {
		return first, false, nil
	}
	s.byTxn[r.TransactionID] = r
	e := s.entryLocked(r.ID)
	e.results = append(e.results, r)
	return r, true, nil
}

func (s *memoryStore) Lookup(ctx context.Context, id string) (Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok {
		return Entry{}, false, nil
	}
	out := Entry{Results: slices.Clone(e.results)}
	if e.order != nil {
		o := *e.order
		out.Order = &o
	}
	return out, true, nil
}

func (s *memoryStore) entryLocked(id string) *memoryEntry {
	e, ok := s.byID[id]
	if !ok {
		e = &memoryEntry{}
		s.byID[id] = e
	}
	return e
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
