package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit"
)

// Claim's answers.
const (
	claimTaken = 0 // the caller holds the key now
	claimDone  = 1 // processed already
	claimBusy  = 2 // another holder has it; the second value is its lease left, in ms
)

// A dedupe key holds "c:" and its holder's token while it is claimed, "d" once processed.

// claimScript takes KEYS[1] for the holder ARGV[1] for ARGV[2] ms unless it is held or done.
// A key the same holder holds already is taken again: go-redis repeats a command whose answer
// a network failure lost, and the holder must not then wait for itself.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or v == 'c:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'c:' .. ARGV[1], 'PX', ARGV[2])
  return {0, 0}
end
if v == 'd' then
  return {1, 0}
end
return {2, redis.call('PTTL', KEYS[1])}
`)

// finishScript ends the claim of holder ARGV[1] on KEYS[1]: with ARGV[2] = '1' it records
// the key as done for ARGV[3] ms whoever holds it now (fn ran), else it deletes the key if
// the holder still holds it (a key another holder took after the lease ended, or done,
// stays). It answers 0 when another holder had taken the key, else 1. Repeating it changes
// nothing more.
var finishScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if ARGV[2] == '1' then
  redis.call('SET', KEYS[1], 'd', 'PX', ARGV[3])
elseif v == 'c:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if v and v ~= 'd' and v ~= 'c:' .. ARGV[1] then return 0 end
return 1
`)

// Claim's polling while another holder has the key (see the package doc for why it polls).
const (
	minPoll = 5 * time.Millisecond
	maxPoll = 200 * time.Millisecond
)

// NewDedupStore returns a paykit.DedupStore kept in rdb, shared by every replica that uses
// the same Redis and prefix. Give it to the webhook handler with paykit.WithDedupStore. Make
// one per process and keep it: Finish names only the key, so the store remembers, in
// memory, the token of each claim it holds, and a Finish must reach the store that claimed.
func NewDedupStore(rdb redis.UniversalClient, opts ...Option) paykit.DedupStore {
	cfg := newConfig(opts)
	return &dedupStore{rdb: rdb, cfg: cfg, obs: observer{cfg.hooks, hookDedupe}, tokens: make(map[string]string)}
}

type dedupStore struct {
	rdb redis.UniversalClient
	cfg config
	obs observer

	// tokens holds the token of each claim this store holds, by dedupe key: Finish names only
	// the key, and must not release a claim another holder took after this one's lease ended.
	mu     sync.Mutex
	tokens map[string]string
}

// redisKey is where key lives: a hash of it (keys are made of provider data of any length
// and alphabet) in braces, the hash tag, so that a Cluster spreads the keys over its slots.
func (s *dedupStore) redisKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return s.cfg.prefix + "dedupe:{" + hex.EncodeToString(sum[:16]) + "}"
}

// Claim takes key, reports it done, or waits while another replica holds it, polling until
// the holder finishes, its lease ends or ctx ends (then it returns ctx's error). A Redis
// failure is an error matching paykit.ErrStoreUnavailable (and so paykit.ErrUnavailable).
func (s *dedupStore) Claim(ctx context.Context, key string) (bool, error) {
	rk, token := s.redisKey(key), rand.Text()
	leaseMS := millis(s.cfg.lease)
	poll := minPoll
	for {
		start := s.obs.start()
		res, err := claimScript.Run(ctx, s.rdb, []string{rk}, token, leaseMS).Int64Slice()
		if err == nil && len(res) != 2 {
			err = fmt.Errorf("claim script answered %v", res)
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				err = ctxErr
			} else {
				err = unavailable(nameDedupe, "claim", "", err)
			}
			s.obs.done(ctx, "claim", start, err)
			return false, err
		}
		s.obs.done(ctx, "claim", start, nil)
		switch res[0] {
		case claimTaken:
			s.mu.Lock()
			s.tokens[key] = token
			s.mu.Unlock()
			return false, nil
		case claimDone:
			return true, nil
		}
		// Held by someone else: look again soon, and no later than its lease's end.
		wait := poll/2 + mrand.N(poll/2+1)
		if left := res[1]; left >= 0 {
			wait = min(wait, time.Duration(left+1)*time.Millisecond)
		}
		poll = min(2*poll, maxPoll)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		}
	}
}

// Finish records key as processed for the retention period, or releases it so that the next
// delivery claims it. It fails when this store holds no claim on key.
func (s *dedupStore) Finish(ctx context.Context, key string, processed bool) error {
	s.mu.Lock()
	token, ok := s.tokens[key]
	delete(s.tokens, key)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("redisstore: dedupe key %q was not claimed here", key)
	}
	flag := "0"
	if processed {
		flag = "1"
	}
	start := s.obs.start()
	mine, err := finishScript.Run(ctx, s.rdb, []string{s.redisKey(key)}, token, flag, millis(s.cfg.retention)).Int64()
	if err != nil {
		err = unavailable(nameDedupe, "finish", "", err)
	}
	s.obs.done(ctx, "finish", start, err)
	if err != nil {
		return err
	}
	if mine == 0 {
		// The lease ended while the holder worked and a redelivery took the key: fn may run
		// (or have run) twice.
		s.cfg.logger.WarnContext(ctx, "redisstore: a dedupe lease ended before Finish and another delivery took the key; raise WithLease above the slowest handler",
			"lease", s.cfg.lease, "processed", processed)
	}
	return nil
}
