package ecster_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/internal/benchhttp"
	"github.com/paykit/paykit/internal/transport"
)

// capturesPerOrder is how many captures of 1 öre each order of the benchmark takes before a
// new one is made (outside the timer), so that orders, and the JSON read, stay small.
const capturesPerOrder = 50

// BenchmarkCapture measures a capture — read the order by orderReference, then POST a DEBIT
// — through paykit's Provider.Capture, beside the same two requests made with bare net/http
// and encoding/json, against the same fake in the same run. Divide paykit's ns/op by
// net/http's for the ratio (target ≤ 1.3).
func BenchmarkCapture(b *testing.B) {
	srv := ecstertest.NewServer(ecstertest.Config{})
	defer srv.Close()
	ctx := context.Background()
	c, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	newOrder := func(b *testing.B) string {
		b.StopTimer()
		defer b.StartTimer()
		p, err := c.CreatePayment(ctx, request(ecster.NewID(), capturesPerOrder))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := srv.Pay(p.ID); err != nil {
			b.Fatal(err)
		}
		return p.ID
	}

	b.Run("paykit", func(b *testing.B) {
		var p paykit.Provider = c
		var id string
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%capturesPerOrder == 0 {
				id = newOrder(b)
			}
			if _, err := p.Capture(ctx, id, paykit.Money{Amount: 1, Currency: "SEK"}); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("net/http", func(b *testing.B) {
		// The same idle-connection settings as paykit's default transport, so that the
		// comparison is of the code, not of the connection pool.
		hc := &http.Client{Transport: transport.DefaultHTTPTransport()}
		var id string
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%capturesPerOrder == 0 {
				id = newOrder(b)
			}
			var orders []bareOrder
			benchhttp.Do(b, hc, http.MethodGet, srv.URL+"/v1/orders?orderReference="+url.QueryEscape(id), ecsterKeys, nil, &orders)
			if len(orders) != 1 || orders[0].Amount-orders[0].DebitedAmount < 1 {
				b.Fatalf("order %+v", orders)
			}
			seq := 1
			for _, t := range orders[0].Transactions {
				if t.Type == "DEBIT" {
					seq++
				}
			}
			body, _ := json.Marshal(map[string]any{"type": "DEBIT", "amount": 1, "transactionReference": id + "-DEBIT-" + strconv.Itoa(seq)})
			var res struct {
				OrderStatus string          `json:"orderStatus"`
				Transaction bareTransaction `json:"transaction"`
			}
			benchhttp.Do(b, hc, http.MethodPost, srv.URL+"/v1/orders/"+url.PathEscape(orders[0].ID)+"/transactions", ecsterKeys, body, &res)
		}
	})
}

type bareOrder struct {
	ID             string            `json:"id"`
	MerchantID     string            `json:"merchantId"`
	Status         string            `json:"status"`
	Created        string            `json:"created"`
	Amount         int64             `json:"amount"`
	Currency       string            `json:"currency"`
	DebitedAmount  int64             `json:"debitedAmount"`
	CreditedAmount int64             `json:"creditedAmount"`
	OrderReference string            `json:"orderReference"`
	Properties     map[string]string `json:"properties"`
	Consumer       json.RawMessage   `json:"consumer"`
	Transactions   []bareTransaction `json:"transactions"`
}

type bareTransaction struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	Created              string `json:"created"`
	Amount               int64  `json:"amount"`
	TransactionReference string `json:"transactionReference"`
	DebitTransaction     string `json:"debitTransaction"`
}

// ecsterKeys are the fake's credentials as Ecster takes them, on every bare call.
var ecsterKeys = http.Header{"X-Api-Key": {ecstertest.DefaultAPIKey}, "X-Merchant-Key": {ecstertest.DefaultMerchantKey}}
