// Package idlock serialises a client's operations on one payment id within a process: two
// CreatePayment calls with one id at the same moment, or a capture racing a refund, run one
// after the other. Across processes the provider's own rules (keys, references) decide.
package idlock

import (
	"context"
	"sync"
)

// Locks is a set of per-id locks. The zero value is ready to use. An id's entry lives only
// while someone holds or waits for its lock, so the set never grows with the ids it saw.
type Locks struct {
	mu    sync.Mutex
	locks map[string]*lock
}

type lock struct {
	ch    chan struct{} // holds one token while the lock is taken
	users int           // holders and waiters
}

// Lock takes the lock of id, or returns ctx's error when ctx ends first. The returned
// unlock must be called exactly once.
func (l *Locks) Lock(ctx context.Context, id string) (unlock func(), err error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*lock)
	}
	lk := l.locks[id]
	if lk == nil {
		lk = &lock{ch: make(chan struct{}, 1)}
		l.locks[id] = lk
	}
	lk.users++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		lk.users--
		if lk.users == 0 {
			delete(l.locks, id)
		}
		l.mu.Unlock()
	}
	select {
	case lk.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-lk.ch; release() }) }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// Len is the number of ids whose lock is held or waited for.
func (l *Locks) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.locks)
}
