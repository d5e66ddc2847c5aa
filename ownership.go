package paykit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// OwnershipStore remembers which provider owns each payment id, so that a Router sends
// GetPayment, Capture, Refund and Cancel to the provider that created the payment. The Router
// records the owner before it sends the create: a crash between the two can leave an owner
// whose provider never saw the payment (GetPayment then answers ErrNotFound), never a payment
// that nobody can find. Several replicas share one store (redisstore has one).
type OwnershipStore interface {
	// Claim records provider as the owner of id unless id has an owner already, and returns
	// the owner either way. Every Claim of id is counted, recorded or not: a repeated
	// CreatePayment (Claimed false) goes to the owner, and its count keeps the first create
	// from failing over while the repeat may be on its way to the owner.
	Claim(ctx context.Context, id, provider string) (Ownership, error)
	// Move hands id from one provider to another, only while from owns it and no Claim of id
	// came after the one numbered seq (the Router fails over only when from certainly created
	// nothing, and a repeat sent to from meanwhile could still create it there). Otherwise it
	// returns an error matching ErrConflict.
	Move(ctx context.Context, id, from, to string, seq int64) error
	// Owner returns the provider that owns id; ok is false when id has none.
	Owner(ctx context.Context, id string) (owner string, ok bool, err error)
}

// Ownership is what OwnershipStore.Claim tells.
type Ownership struct {
	Provider string // the provider that owns the id
	Claimed  bool   // this Claim recorded the owner: the first create of the id
	Seq      int64  // the number of this Claim of the id, 1 for the first
}

// DefaultOwnershipRetention is how long the in-memory OwnershipStore remembers an owner after
// the last Claim of its id.
const DefaultOwnershipRetention = 30 * 24 * time.Hour

// OwnershipOption configures NewMemoryOwnershipStore.
type OwnershipOption func(*memoryOwnership)

// WithOwnershipRetention sets how long the in-memory store remembers an owner after the last
// Claim of its id (0 or less: DefaultOwnershipRetention). Past it the Router no longer knows
// the payment (ErrNotFound from its GetPayment, Capture, Refund and Cancel); the provider
// still does, through its own client.
func WithOwnershipRetention(d time.Duration) OwnershipOption {
	return func(s *memoryOwnership) { s.retention = d }
}

// NewMemoryOwnershipStore returns an OwnershipStore kept in memory. It serves one process and
// forgets on restart; replicas need a shared one (redisstore.NewOwnershipStore).
//
// It is bounded in time: an owner is forgotten DefaultOwnershipRetention (30 days) after the
// last Claim of its id, so a long-running process does not grow without limit. An entry
// costs about 130 bytes besides its id (BenchmarkMemoryStoresPerEntry: 129 B/entry over
// 100,000 ids); pruning is O(1) amortised per Claim.
func NewMemoryOwnershipStore(opts ...OwnershipOption) OwnershipStore {
	s := &memoryOwnership{owners: make(map[string]*owned)}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if s.retention <= 0 {
		s.retention = DefaultOwnershipRetention
	}
	return s
}

type memoryOwnership struct {
	mu        sync.Mutex
	retention time.Duration
	owners    map[string]*owned
	// claimed lists ids in the order of their last Claim, which is the order they expire
	// in; an id claimed again is listed again and its older listing skipped when popped.
	claimed []claimedAt
}

type claimedAt struct {
	id string
	at time.Time
}

type owned struct {
	provider string
	claims   int64
	last     time.Time // the last Claim
}

func (s *memoryOwnership) Claim(_ context.Context, id, provider string) (Ownership, error) {
	if id == "" || provider == "" {
		return Ownership{}, errors.New("paykit: ownership needs an id and a provider")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	o, ok := s.owners[id]
	if !ok {
		o = &owned{provider: provider}
		s.owners[id] = o
	}
	o.claims++
	o.last = now()
	s.claimed = append(s.claimed, claimedAt{id: id, at: o.last})
	return Ownership{Provider: o.provider, Claimed: !ok, Seq: o.claims}, nil
}

func (s *memoryOwnership) Move(_ context.Context, id, from, to string, seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.owners[id]
	if !ok || o.provider != from || o.claims != seq {
		return &Error{Op: "move ownership", PaymentID: id, Kind: ErrConflict,
			Message: "the payment is no longer " + from + "'s alone to give up (moved, or claimed again meanwhile)"}
	}
	o.provider = to
	return nil
}

func (s *memoryOwnership) Owner(_ context.Context, id string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	o, ok := s.owners[id]
	if !ok {
		return "", false, nil
	}
	return o.provider, true, nil
}

// pruneLocked forgets the owners whose last Claim is older than the retention, oldest first.
func (s *memoryOwnership) pruneLocked() {
	cutoff := now().Add(-s.retention)
	n := 0
	for n < len(s.claimed) && s.claimed[n].at.Before(cutoff) {
		c := s.claimed[n]
		if o, ok := s.owners[c.id]; ok && o.last.Equal(c.at) {
			delete(s.owners, c.id)
		}
		n++
	}
	if n > 0 {
		s.claimed = s.claimed[n:]
		if cap(s.claimed) > 1024 && len(s.claimed) < cap(s.claimed)/4 {
			s.claimed = append([]claimedAt(nil), s.claimed...)
		}
	}
}
