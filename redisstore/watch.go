package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit/reconcile"
)

// The watch list is four keys in one Cluster slot (hash-tagged): a sorted set of ids by due
// time (ms), a sorted set of ids by first watch (ms, for the retention), a hash of the
// entries (JSON) and a hash of the tokens of the claims that hold them, with a counter that
// makes the tokens.

// watchAddScript: KEYS due, since, entries, claims; ARGV id, now ms, due ms, entry JSON. A
// new id is added due at ARGV[3]; a watched one becomes due then if that is sooner, and its
// claim, if any, ends.
var watchAddScript = redis.NewScript(`
redis.call('HDEL', KEYS[4], ARGV[1])
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not cur then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
if tonumber(ARGV[3]) < tonumber(cur) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 0
`)

// watchClaimScript: KEYS due, since, entries, claims, seq; ARGV due-by ms, lease-until ms,
// n, retention cutoff ms. It first drops up to 100 entries first watched before the cutoff,
// then leases up to n due entries: each gets a new token and is due again when its lease
// ends. It answers id, token, entry JSON for each.
var watchClaimScript = redis.NewScript(`
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4], 'LIMIT', 0, 100)
for _, id in ipairs(old) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local tok = redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[4], id, tok)
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  table.insert(out, id)
  table.insert(out, tostring(tok))
  table.insert(out, redis.call('HGET', KEYS[3], id) or '')
end
return out
`)

// watchRescheduleScript: KEYS due, entries, claims; ARGV id, token, due ms, entry JSON.
var watchRescheduleScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
return 1
`)

// watchRemoveScript: KEYS due, since, entries, claims; ARGV id, token (” for any holder).
var watchRemoveScript = redis.NewScript(`
if ARGV[2] ~= '' and redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then
  return 0
end
local n = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return n
`)

const nameWatch = "watch store"

// NewWatchStore returns a reconcile.Store kept in rdb, shared by every replica that uses
// the same Redis and prefix: give it to each replica's reconcile.Reconciler (and
// reconcile.NewWatcher) with reconcile.WithStore. Due times are kept in a sorted set; Claim
// leases each due payment to one replica with a token (reconcile.WithLease), and a payment
// whose holder died is due again when the lease ends, for any replica. An entry is dropped
// reconcile.DefaultStoreRetention after it was first watched, even when no Reconciler runs.
// Every call is one script on one Cluster slot; times come from the Reconciler's clock, so
// replicas' clocks should agree to well within the backoff's MinWait.
func NewWatchStore(rdb redis.UniversalClient, opts ...Option) reconcile.Store {
	cfg := newConfig(opts)
	tag := "{" + cfg.prefix + "watch}:"
	return &watchStore{rdb: rdb, due: tag + "due", since: tag + "since", entries: tag + "entries",
		claims: tag + "claims", seq: tag + "seq", retention: reconcile.DefaultStoreRetention,
		obs: observer{cfg.hooks, hookWatch}}
}

type watchStore struct {
	rdb                              redis.UniversalClient
	due, since, entries, claims, seq string
	retention                        time.Duration
	obs                              observer
}

// watchEntry is an entry as it is kept: what reconcile.Entry holds but its due time (the
// score) and its claim (a hash of its own).
type watchEntry struct {
	Since         time.Time `json:"since"`
	Polls         int       `json:"polls,omitempty"`
	Step          int       `json:"step,omitempty"`
	State         string    `json:"state,omitempty"`
	NotFoundSince time.Time `json:"not_found_since,omitzero"`
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func encodeEntry(e reconcile.Entry) (string, error) {
	b, err := json.Marshal(watchEntry{Since: e.Since, Polls: e.Polls, Step: e.Step, State: e.State, NotFoundSince: e.NotFoundSince})
	return string(b), err
}

func (s *watchStore) Add(ctx context.Context, id string, now, due time.Time) error {
	js, err := encodeEntry(reconcile.Entry{Since: now})
	if err != nil {
		return err
	}
	start := s.obs.start()
	if err = watchAddScript.Run(ctx, s.rdb, []string{s.due, s.since, s.entries, s.claims}, id, ms(now), ms(due), js).Err(); err != nil {
		err = unavailable(nameWatch, "add", id, err)
	}
	s.obs.done(ctx, "add", start, err)
	return err
}

func (s *watchStore) Claim(ctx context.Context, dueBy, leaseUntil time.Time, n int) (_ []reconcile.Entry, err error) {
	start := s.obs.start()
	defer func() { s.obs.done(ctx, "claim", start, err) }()
	res, err := watchClaimScript.Run(ctx, s.rdb, []string{s.due, s.since, s.entries, s.claims, s.seq},
		ms(dueBy), ms(leaseUntil), n, ms(dueBy.Add(-s.retention))).StringSlice()
	if err != nil {
		return nil, unavailable(nameWatch, "claim", "", err)
	}
	if len(res)%3 != 0 {
		return nil, unavailable(nameWatch, "claim", "", fmt.Errorf("the script answered %d values", len(res)))
	}
	out := make([]reconcile.Entry, 0, len(res)/3)
	for i := 0; i < len(res); i += 3 {
		e := reconcile.Entry{ID: res[i], Claim: res[i+1], Due: time.UnixMilli(leaseUntil.UnixMilli())}
		if res[i+2] != "" {
			var w watchEntry
			if err := json.Unmarshal([]byte(res[i+2]), &w); err != nil {
				return nil, unavailable(nameWatch, "claim", res[i], fmt.Errorf("reading the entry: %w", err))
			}
			e.Since, e.Polls, e.Step, e.State, e.NotFoundSince = w.Since, w.Polls, w.Step, w.State, w.NotFoundSince
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *watchStore) Reschedule(ctx context.Context, e reconcile.Entry) (bool, error) {
	js, err := encodeEntry(e)
	if err != nil {
		return false, err
	}
	start := s.obs.start()
	n, err := watchRescheduleScript.Run(ctx, s.rdb, []string{s.due, s.entries, s.claims}, e.ID, e.Claim, ms(e.Due), js).Int()
	if err != nil {
		err = unavailable(nameWatch, "reschedule", e.ID, err)
	}
	s.obs.done(ctx, "reschedule", start, err)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

func (s *watchStore) Remove(ctx context.Context, id, claim string) (bool, error) {
	start := s.obs.start()
	n, err := watchRemoveScript.Run(ctx, s.rdb, []string{s.due, s.since, s.entries, s.claims}, id, claim).Int()
	if err != nil {
		err = unavailable(nameWatch, "remove", id, err)
	}
	s.obs.done(ctx, "remove", start, err)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

func (s *watchStore) Len(ctx context.Context) (int, error) {
	start := s.obs.start()
	n, err := s.rdb.ZCard(ctx, s.due).Result()
	if err != nil {
		err = unavailable(nameWatch, "len", "", err)
	}
	s.obs.done(ctx, "len", start, err)
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
