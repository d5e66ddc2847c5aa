package reconcile

import (
	"container/heap"
	"context"
	"strconv"
	"sync"
	"time"
)

// Entry is one watched payment as a Store keeps it.
type Entry struct {
	ID    string    // the merchant's payment id, as it was watched
	Since time.Time // when it was first watched
	Due   time.Time // when it is to be read next
	Polls int       // reads so far, answered or not
	// Step is the backoff step: the wait after a read that changed nothing is
	// MinWait·2^Step, at most MaxWait. A change of state starts it again from 0.
	Step int
	// State is paykit.PaymentStateKey of the last payment read, "" before any.
	State string
	// NotFoundSince is when reads began to answer ErrNotFound; zero while the payment is
	// found.
	NotFoundSince time.Time
	// Claim is the token of the claim Store.Claim gave this entry; Reschedule and Remove
	// apply only while that claim holds. The Store sets it.
	Claim string
}

// Store is the watch list: the payments a Reconciler reads until they are final, each with
// the time it is due. A Store shared by replicas (redisstore.NewWatchStore) lets each due
// payment be read by one replica at a time: Claim leases what it returns.
type Store interface {
	// Add watches id from now: a new entry due at due. An id watched already keeps its entry
	// (Since, Polls, Step) and becomes due at due if that is sooner; an Add while the entry
	// is claimed also ends the claim (its holder's Reschedule and Remove report false), so
	// that a Watch made while a read was in progress (the Router's, before a refund) is
	// followed by another read, not undone by the holder removing a payment it read final.
	Add(ctx context.Context, id string, now, due time.Time) error
	// Claim takes up to n entries due at or before dueBy, the earliest first, and leases
	// each until leaseUntil: until then no other Claim returns it, unless Add makes it due
	// sooner. A lease that ends without Reschedule or Remove (its holder died) makes the
	// entry due again at the lease's end.
	Claim(ctx context.Context, dueBy, leaseUntil time.Time, n int) ([]Entry, error)
	// Reschedule stores e, as Claim returned it with its fields updated, due at e.Due, and
	// ends its claim. It reports false, storing nothing, when the claim no longer holds
	// (its lease ended and another Claim took the entry, or the entry was removed).
	Reschedule(ctx context.Context, e Entry) (bool, error)
	// Remove stops watching id. With claim set it removes the entry only while that claim
	// holds (false otherwise); with claim empty it removes it whoever holds it.
	Remove(ctx context.Context, id, claim string) (bool, error)
	// Len returns how many payments are watched.
	Len(ctx context.Context) (int, error)
}

// DefaultStoreRetention is how long the in-memory Store keeps an entry after it was first
// watched: a day more than DefaultMaxAge, after which a Reconciler gives every payment up.
const DefaultStoreRetention = DefaultMaxAge + 24*time.Hour

// NewMemoryStore returns a Store kept in memory, for one process: it forgets on restart, so
// a payment created before a restart is not read again after it (replicas, and a shop that
// must survive restarts, use redisstore.NewWatchStore). It is bounded in time: an entry is
// dropped retention (0 or less: DefaultStoreRetention) after it was first watched, even when
// no Reconciler runs. Claim costs O(log n) per entry returned; the cost per entry is measured
// by BenchmarkMemoryStorePerEntry (see the package doc).
func NewMemoryStore(retention time.Duration) Store {
	if retention <= 0 {
		retention = DefaultStoreRetention
	}
	return &memoryStore{retention: retention, byID: make(map[string]*memEntry)}
}

type memoryStore struct {
	mu        sync.Mutex
	retention time.Duration
	byID      map[string]*memEntry
	due       dueHeap
	// added lists ids in the order they were first watched, which is the order their
	// retention ends in: pruning pops from its front, O(1) amortised per Add.
	added  []addedAt
	tokens uint64
}

type memEntry struct {
	Entry
	index      int       // in due
	leaseUntil time.Time // while Claim is set: when the claim ends
}

type addedAt struct {
	id    string
	since time.Time
}

func (s *memoryStore) Add(_ context.Context, id string, now, due time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if e, ok := s.byID[id]; ok {
		e.Claim = ""
		if due.Before(e.Due) {
			e.Due = due
			heap.Fix(&s.due, e.index)
		}
		return nil
	}
	e := &memEntry{Entry: Entry{ID: id, Since: now, Due: due}}
	s.byID[id] = e
	heap.Push(&s.due, e)
	s.added = append(s.added, addedAt{id: id, since: now})
	return nil
}

func (s *memoryStore) Claim(_ context.Context, dueBy, leaseUntil time.Time, n int) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(dueBy)
	var out []Entry
	for len(out) < n && len(s.due) > 0 {
		e := s.due[0]
		if e.Due.After(dueBy) {
			break
		}
		s.tokens++
		e.Claim = strconv.FormatUint(s.tokens, 36)
		e.leaseUntil = leaseUntil
		// The entry is due again when the lease ends: a holder that dies gives it back.
		e.Due = leaseUntil
		if !e.Due.After(dueBy) {
			e.Due = dueBy.Add(time.Nanosecond) // a lease already over cannot loop this Claim
		}
		heap.Fix(&s.due, 0)
		out = append(out, e.Entry)
	}
	return out, nil
}

// heldLocked returns the entry of id while the claim token holds it.
func (s *memoryStore) heldLocked(id, claim string) (*memEntry, bool) {
	e, ok := s.byID[id]
	if !ok || claim == "" || e.Claim != claim {
		return nil, false
	}
	return e, true
}

func (s *memoryStore) Reschedule(_ context.Context, in Entry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.heldLocked(in.ID, in.Claim)
	if !ok {
		return false, nil
	}
	since := e.Since // the first watch stays the first
	e.Entry = in
	e.Since, e.Claim = since, ""
	heap.Fix(&s.due, e.index)
	return true, nil
}

func (s *memoryStore) Remove(_ context.Context, id, claim string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok || (claim != "" && e.Claim != claim) {
		return false, nil
	}
	s.removeLocked(e)
	return true, nil
}

func (s *memoryStore) Len(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID), nil
}

func (s *memoryStore) removeLocked(e *memEntry) {
	heap.Remove(&s.due, e.index)
	delete(s.byID, e.ID)
}

// pruneLocked drops the entries first watched more than the retention before now.
func (s *memoryStore) pruneLocked(now time.Time) {
	cutoff := now.Add(-s.retention)
	n := 0
	for n < len(s.added) && s.added[n].since.Before(cutoff) {
		a := s.added[n]
		if e, ok := s.byID[a.id]; ok && e.Since.Equal(a.since) {
			s.removeLocked(e)
		}
		n++
	}
	if n > 0 {
		s.added = s.added[n:]
		if cap(s.added) > 1024 && len(s.added) < cap(s.added)/4 {
			s.added = append([]addedAt(nil), s.added...)
		}
	}
}

// dueHeap orders entries by due time, the earliest first.
type dueHeap []*memEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].Due.Before(h[j].Due) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *dueHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
