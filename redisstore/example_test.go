package redisstore_test

import (
	"context"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/redisstore"
)

// Every replica of a merchant's backend wires the same three things to one Redis: the
// dedupe store of its webhook handlers, the limiter of its EchelonPay clients and the store
// of its Entrecard client. (It needs a Redis to talk to, so it is compiled, not run.)
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"}) // or NewFailoverClient, NewClusterClient

	dedupe := redisstore.NewDedupStore(rdb)
	limiter := redisstore.NewLimiter(rdb, "echelon:M-1001", 10, time.Second)
	results := redisstore.NewEntrecardStore(rdb)

	echelonClient, err := echelon.New(echelon.Config{MerchantCode: "M-1001", Secret: "…"}, paykit.WithLimiter(limiter))
	if err != nil {
		panic(err)
	}
	entrecardClient, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "…", Store: results})
	if err != nil {
		panic(err)
	}
	fulfil := func(ctx context.Context, n *paykit.Notification) error { return nil }
	http.Handle("/webhooks/echelon", paykit.NewWebhookHandler(echelonClient, fulfil, paykit.WithDedupStore(dedupe)))
	http.Handle("/webhooks/entrecard", paykit.NewWebhookHandler(entrecardClient, fulfil, paykit.WithDedupStore(dedupe)))
}
