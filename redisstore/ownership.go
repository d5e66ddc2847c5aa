package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit"
)

// ownerClaimScript records ARGV[1] as the owner in the hash KEYS[1] unless it has one, counts the
// claim, and answers {owner, 1 when it recorded it else 0, the claim's number}.
var ownerClaimScript = redis.NewScript(`
local owner = redis.call('HGET', KEYS[1], 'owner')
local claimed = 0
if not owner then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1])
  owner = ARGV[1]
  claimed = 1
end
local n = redis.call('HINCRBY', KEYS[1], 'claims', 1)
return {owner, claimed, n}
`)

// moveScript hands KEYS[1] from ARGV[1] to ARGV[2] only while ARGV[1] owns it and the claim
// count is still ARGV[3].
var moveScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'claims') == ARGV[3] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[2])
  return 1
end
return 0
`)

// NewOwnershipStore returns a paykit.OwnershipStore kept in rdb, for paykit.WithOwnershipStore:
// every replica's Router finds the provider that owns a payment, and a repeated create on
// another replica goes to the same provider. Each operation touches one key, so any Cluster
// slot serves it. Owners never expire: a refund may come months after the payment.
func NewOwnershipStore(rdb redis.UniversalClient, opts ...Option) paykit.OwnershipStore {
	cfg := newConfig(opts)
	return &ownershipStore{rdb: rdb, base: cfg.prefix + "owner:", obs: observer{cfg.hooks, hookOwnership}}
}

type ownershipStore struct {
	rdb  redis.UniversalClient
	base string
	obs  observer
}

// Claim records provider as the owner of id unless id has one, and counts the claim, in one
// atomic script.
func (s *ownershipStore) Claim(ctx context.Context, id, provider string) (o paykit.Ownership, err error) {
	if id == "" || provider == "" {
		return paykit.Ownership{}, errors.New("redisstore: ownership needs an id and a provider")
	}
	start := s.obs.start()
	defer func() { s.obs.done(ctx, "claim", start, err) }()
	res, err := ownerClaimScript.Run(ctx, s.rdb, []string{s.base + id}, provider).Slice()
	if err != nil {
		return paykit.Ownership{}, unavailable(nameOwnership, "claim", id, err)
	}
	if len(res) == 3 {
		owner, ok1 := res[0].(string)
		claimed, ok2 := res[1].(int64)
		seq, ok3 := res[2].(int64)
		if ok1 && ok2 && ok3 {
			return paykit.Ownership{Provider: owner, Claimed: claimed == 1, Seq: seq}, nil
		}
	}
	return paykit.Ownership{}, unavailable(nameOwnership, "claim", id, fmt.Errorf("the script answered %v", res))
}

// Move hands id from one provider to another while from owns it and no claim came after seq.
func (s *ownershipStore) Move(ctx context.Context, id, from, to string, seq int64) (err error) {
	start := s.obs.start()
	defer func() { s.obs.done(ctx, "move", start, err) }()
	moved, err := moveScript.Run(ctx, s.rdb, []string{s.base + id}, from, to, strconv.FormatInt(seq, 10)).Int()
	if err != nil {
		return unavailable(nameOwnership, "move", id, err)
	}
	if moved != 1 {
		return &paykit.Error{Op: nameOwnership + ": move", PaymentID: id, Kind: paykit.ErrConflict,
			Message: "the payment is no longer " + from + "'s alone to give up (moved, or claimed again meanwhile)"}
	}
	return nil
}

// Owner returns the provider that owns id.
func (s *ownershipStore) Owner(ctx context.Context, id string) (_ string, _ bool, err error) {
	start := s.obs.start()
	defer func() { s.obs.done(ctx, "owner", start, err) }()
	owner, err := s.rdb.HGet(ctx, s.base+id, "owner").Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable(nameOwnership, "read owner", id, err)
	}
	return owner, true, nil
}
