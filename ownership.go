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
	// the owner either way; claimed reports whether this call recorded it. A repeated
	// CreatePayment (claimed false) goes to the provider that owns the id, and never fails
	// over: the first create may have handed the customer a way to pay.
	Claim(ctx context.Context, id, provider string) (owner string, claimed bool, err error)
	// Move hands id from one provider to another, only while from still owns it (the Router
	// fails over only when from certainly created nothing). It returns ErrConflict when from
	// no longer owns id.
	Move(ctx context.Context, id, from, to string) error
	// Owner returns the provider that owns id; ok is false when id has none.
	Owner(ctx context.Context, id string) (owner string, ok bool, err error)
}

// NewMemoryOwnershipStore returns an OwnershipStore kept in memory. It serves one process and
// forgets on restart; replicas need a shared one.
func NewMemoryOwnershipStore() OwnershipStore {
	return &memoryOwnership{owners: make(map[string]string)}
}

type memoryOwnership struct {
	mu     sync.Mutex
	owners map[string]string
}

func (s *memoryOwnership) Claim(_ context.Context, id, provider string) (string, bool, error) {
	if id == "" || provider == "" {
		return "", false, errors.New("paykit: ownership needs an id and a provider")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner, ok := s.owners[id]; ok {
		return owner, false, nil
	}
	s.owners[id] = provider
	return provider, true, nil
}

func (s *memoryOwnership) Move(_ context.Context, id, from, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owners[id] != from {
		return &Error{Op: "move ownership", PaymentID: id, Kind: ErrConflict,
			Message: "the payment is not owned by " + from}
	}
	s.owners[id] = to
	return nil
}

func (s *memoryOwnership) Owner(_ context.Context, id string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, ok := s.owners[id]
	return owner, ok, nil
}
