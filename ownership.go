package paykit

import (
	"context"
	"errors"
	"sync"
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

// NewMemoryOwnershipStore returns an OwnershipStore kept in memory. It serves one process and
// forgets on restart; replicas need a shared one.
func NewMemoryOwnershipStore() OwnershipStore {
	return &memoryOwnership{owners: make(map[string]*owned)}
}

type memoryOwnership struct {
	mu     sync.Mutex
	owners map[string]*owned
}

type owned struct {
	provider string
	claims   int64
}

func (s *memoryOwnership) Claim(_ context.Context, id, provider string) (Ownership, error) {
	if id == "" || provider == "" {
		return Ownership{}, errors.New("paykit: ownership needs an id and a provider")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.owners[id]
	if !ok {
		o = &owned{provider: provider}
		s.owners[id] = o
	}
	o.claims++
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
	o, ok := s.owners[id]
	if !ok {
		return "", false, nil
	}
	return o.provider, true, nil
}
