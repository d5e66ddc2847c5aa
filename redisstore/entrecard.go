package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit/entrecard"
)

// saveOnceScript stores ARGV[1] at KEYS[1] unless a value is there, appending it to the list
// KEYS[2] when given. It answers {1, the value} when it stored it, else {0, the stored value}.
var saveOnceScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  return {0, v}
end
redis.call('SET', KEYS[1], ARGV[1])
if KEYS[2] then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
return {1, ARGV[1]}
`)

// NewEntrecardStore returns an entrecard.Store kept in rdb, for entrecard.Config.Store: the
// results survive restarts and every replica answers GetPayment alike. Its rules are the
// memory store's (see the package doc); nothing expires.
func NewEntrecardStore(rdb redis.UniversalClient, opts ...Option) entrecard.Store {
	// One hash tag for every key: SaveResult checks a transaction id and appends to a
	// payment's results in one script, and a Cluster runs a script only on one slot.
	cfg := newConfig(opts)
	return &entrecardStore{rdb: rdb, base: cfg.prefix + "entrecard:{entrecard}:", obs: observer{cfg.hooks, hookEntrecard}}
}

type entrecardStore struct {
	rdb  redis.UniversalClient
	base string
	obs  observer
}

func (s *entrecardStore) orderKey(id string) string   { return s.base + "order:" + id }
func (s *entrecardStore) resultsKey(id string) string { return s.base + "results:" + id }
func (s *entrecardStore) txnKey(txn string) string    { return s.base + "txn:" + txn }

// SaveOrder stores o under o.ID unless an order with that id is stored already.
func (s *entrecardStore) SaveOrder(ctx context.Context, o entrecard.Order) (entrecard.Order, bool, error) {
	if err := ctx.Err(); err != nil {
		return entrecard.Order{}, false, err
	}
	data, err := json.Marshal(orderOf(o))
	if err != nil {
		return entrecard.Order{}, false, fmt.Errorf("redisstore: encoding an order: %w", err)
	}
	created, stored, err := s.saveOnce(ctx, "save order", o.ID, []string{s.orderKey(o.ID)}, data)
	if err != nil {
		return entrecard.Order{}, false, err
	}
	var w wireOrder
	if err := json.Unmarshal(stored, &w); err != nil {
		return entrecard.Order{}, false, fmt.Errorf("redisstore: the stored order %q is unreadable: %w", o.ID, err)
	}
	return w.order(), created, nil
}

// SaveResult stores r under r.TransactionID unless a result with that transaction id is
// stored already, and appends it to the results of r.ID, in one atomic script.
func (s *entrecardStore) SaveResult(ctx context.Context, r entrecard.Result) (entrecard.Result, bool, error) {
	if err := ctx.Err(); err != nil {
		return entrecard.Result{}, false, err
	}
	data, err := json.Marshal(resultOf(r))
	if err != nil {
		return entrecard.Result{}, false, fmt.Errorf("redisstore: encoding a result: %w", err)
	}
	created, stored, err := s.saveOnce(ctx, "save result", r.ID, []string{s.txnKey(r.TransactionID), s.resultsKey(r.ID)}, data)
	if err != nil {
		return entrecard.Result{}, false, err
	}
	var w wireResult
	if err := json.Unmarshal(stored, &w); err != nil {
		return entrecard.Result{}, false, fmt.Errorf("redisstore: the stored result of transaction %q is unreadable: %w", r.TransactionID, err)
	}
	return w.result(), created, nil
}

func (s *entrecardStore) saveOnce(ctx context.Context, op, id string, keys []string, data []byte) (created bool, stored []byte, err error) {
	start := s.obs.start()
	defer func() { s.obs.done(ctx, op, start, err) }()
	res, err := saveOnceScript.Run(ctx, s.rdb, keys, data).Slice()
	if err != nil {
		return false, nil, unavailable(nameEntrecard, op, id, err)
	}
	if len(res) == 2 {
		flag, ok1 := res[0].(int64)
		value, ok2 := res[1].(string)
		if ok1 && ok2 {
			return flag == 1, []byte(value), nil
		}
	}
	return false, nil, unavailable(nameEntrecard, op, id, fmt.Errorf("the script answered %v", res))
}

// Lookup returns the order and the results stored for payment id, read in one transaction.
func (s *entrecardStore) Lookup(ctx context.Context, id string) (entrecard.Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return entrecard.Entry{}, false, err
	}
	var order *redis.StringCmd
	var results *redis.StringSliceCmd
	start := s.obs.start()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		order = p.Get(ctx, s.orderKey(id))
		results = p.LRange(ctx, s.resultsKey(id), 0, -1)
		return nil
	})
	if s.obs.active() {
		s.obs.done(ctx, "lookup", start, lookupErr(id, err, order, results))
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return entrecard.Entry{}, false, unavailable(nameEntrecard, "lookup", id, err)
	}
	var e entrecard.Entry
	if data, err := order.Bytes(); err == nil {
		var w wireOrder
		if err := json.Unmarshal(data, &w); err != nil {
			return entrecard.Entry{}, false, fmt.Errorf("redisstore: the stored order %q is unreadable: %w", id, err)
		}
		o := w.order()
		e.Order = &o
	} else if !errors.Is(err, redis.Nil) {
		return entrecard.Entry{}, false, unavailable(nameEntrecard, "lookup", id, err)
	}
	list, err := results.Result()
	if err != nil {
		return entrecard.Entry{}, false, unavailable(nameEntrecard, "lookup", id, err)
	}
	for _, data := range list {
		var w wireResult
		if err := json.Unmarshal([]byte(data), &w); err != nil {
			return entrecard.Entry{}, false, fmt.Errorf("redisstore: a stored result of payment %q is unreadable: %w", id, err)
		}
		e.Results = append(e.Results, w.result())
	}
	return e, e.Order != nil || len(e.Results) > 0, nil
}

// lookupErr is the error Lookup's round trip ended with, for WithHooks: the first of the
// transaction's error and its commands' that is not redis.Nil (a key that is not there).
func lookupErr(id string, err error, cmds ...redis.Cmder) error {
	for _, c := range cmds {
		if err == nil || errors.Is(err, redis.Nil) {
			err = c.Err()
		}
	}
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	return unavailable(nameEntrecard, "lookup", id, err)
}

// wireOrder and wireResult are how orders and results are stored: JSON with names of their
// own, so that renaming a Go field cannot make stored data unreadable.
type wireOrder struct {
	ID          string    `json:"id"`
	Description string    `json:"description"`
	Quantity    int       `json:"quantity"`
	Cost        int64     `json:"cost"`
	BuyURL      string    `json:"buy_url"`
	CreatedAt   time.Time `json:"created_at"`
}

func orderOf(o entrecard.Order) wireOrder {
	return wireOrder{ID: o.ID, Description: o.Description, Quantity: o.Quantity,
		Cost: o.Cost, BuyURL: o.BuyURL, CreatedAt: o.CreatedAt}
}

func (w wireOrder) order() entrecard.Order {
	return entrecard.Order{ID: w.ID, Description: w.Description, Quantity: w.Quantity,
		Cost: w.Cost, BuyURL: w.BuyURL, CreatedAt: w.CreatedAt}
}

type wireResult struct {
	SellerID      string `json:"seller_id"`
	ID            string `json:"id"`
	Total         int64  `json:"total"`
	TransactionID string `json:"transaction_id"`
	Status        string `json:"status"`
}

func resultOf(r entrecard.Result) wireResult {
	return wireResult{SellerID: r.SellerID, ID: r.ID, Total: r.Total, TransactionID: r.TransactionID, Status: string(r.Status)}
}

func (w wireResult) result() entrecard.Result {
	return entrecard.Result{SellerID: w.SellerID, ID: w.ID, Total: w.Total, TransactionID: w.TransactionID, Status: entrecard.ResultStatus(w.Status)}
}
