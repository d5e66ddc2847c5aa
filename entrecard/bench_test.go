package entrecard_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

// BenchmarkMemoryStorePerEntry reports what one remembered payment costs in the in-memory
// Store (the heap it holds until its retention ends, as runtime.MemStats sees it after a GC):
// 100,000 payments, each made by CreatePayment with a typical request (a 32-character id, the
// shop's three URLs, a buy link of about 300 bytes) and given one result. Run it with
//
//	go test -run '^$' -bench MemoryStorePerEntry -benchtime 3x ./entrecard/
func BenchmarkMemoryStorePerEntry(b *testing.B) {
	const entries = 100_000
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	ids := make([]string, entries)
	for i := range ids {
		ids[i] = entrecard.NewID()
	}
	for range b.N {
		store := entrecard.NewMemoryStore()
		c, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "s3cr3t", Store: store})
		if err != nil {
			b.Fatal(err)
		}
		linkBytes := 0
		before := heap()
		for i, id := range ids {
			p, err := c.CreatePayment(ctx, paykit.PaymentRequest{
				ID:          id,
				Amount:      paykit.Money{Amount: 250, Currency: entrecard.Currency},
				Description: "Order " + strconv.Itoa(i),
				NotifyURL:   "https://shop.example/webhooks/entrecard",
				ReturnURL:   "https://shop.example/checkout/thanks?order=" + id,
				CancelURL:   "https://shop.example/checkout/cart?order=" + id,
			})
			if err != nil {
				b.Fatal(err)
			}
			linkBytes += len(p.Action.URL)
			_, _, err = store.SaveResult(ctx, entrecard.Result{SellerID: "1001", ID: id, Total: 250,
				TransactionID: strconv.Itoa(1_000_000 + i), Status: entrecard.ResultComplete})
			if err != nil {
				b.Fatal(err)
			}
		}
		after := heap()
		b.ReportMetric(float64(after-before)/entries, "B/entry")
		b.ReportMetric(float64(linkBytes)/entries, "link-B")
		runtime.KeepAlive(store)
		runtime.KeepAlive(c)
	}
}
