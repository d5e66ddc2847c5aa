package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit"
)

// moveScript hands KEYS[1] from ARGV[1] to ARGV[2] only while ARGV[1] holds it.
var moveScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// NewOwnershipStore returns a paykit.OwnershipStore kept in rdb, for paykit.WithOwnershipStore:
// every replica's Router finds the provider that owns a payment, and a repeated create on
// another replica goes to the same provider. Each operation touches one key, so any Cluster
// slot serves it. Owners never expire: a refund may come months after the payment.
func NewOwnershipStore(rdb redis.UniversalClient, opts ...Option) paykit.OwnershipStore {
	return &ownershipStore{rdb: rdb, base: newConfig(opts).prefix + "owner:"}
}

type ownershipStore struct {
	rdb  redis.UniversalClient
	base string
}

// Claim records provider as the owner of id unless id has one, atomically.
func (s *ownershipStore) Claim(ctx context.Context, id, provider string) (string, bool, error) {
	if id == "" || provider == "" {
		return "", false, errors.New("redisstore: ownership needs an id and a provider")
	}
	res, err := saveOnceScript.Run(ctx, s.rdb, []string{s.base + id}, provider).Slice()
	if err != nil {
		return "", false, unavailable("claim ownership", err)
	}
	if len(res) == 2 {
		flag, ok1 := res[0].(int64)
		owner, ok2 := res[1].(string)
		if ok1 && ok2 {
			return owner, flag == 1, nil
		}
	}
	return "", false, unavailable("claim ownership", fmt.Errorf("the script answered %v", res))
}

// Move hands id from one provider to another while from still owns it.
func (s *ownershipStore) Move(ctx context.Context, id, from, to string) error {
	moved, err := moveScript.Run(ctx, s.rdb, []string{s.base + id}, from, to).Int()
	if err != nil {
		return unavailable("move ownership", err)
	}
	if moved != 1 {
		return &paykit.Error{Op: "redisstore: move ownership", PaymentID: id, Kind: paykit.ErrConflict,
			Message: "the payment is not owned by " + from}
	}
	return nil
}

// Owner returns the provider that owns id.
func (s *ownershipStore) Owner(ctx context.Context, id string) (string, bool, error) {
	owner, err := s.rdb.Get(ctx, s.base+id).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable("read ownership", err)
	}
	return owner, true, nil
}
