package echelon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/internal/benchhttp"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/transport"
)

// BenchmarkRoundTrip measures a direct payin's CreatePayment + GetPayment (two requests)
// through paykit, beside the same two requests made with bare net/http and encoding/json,
// against the same fake in the same run. Divide paykit's ns/op by net/http's for the ratio
// (target ≤ 1.3). The fake's throttling is lifted (echelontest.NoRateLimit) and the client
// waits on no limiter (paykit.WithLimiter), or both would measure EchelonPay's 10 requests
// per second instead of the code.
func BenchmarkRoundTrip(b *testing.B) {
	fake := echelontest.NewServer(echelontest.Config{RateLimit: echelontest.NoRateLimit})
	defer fake.Close()
	ctx := context.Background()
	amount := paykit.Money{Amount: 4205, Currency: "USD"}

	b.Run("paykit", func(b *testing.B) {
		c, err := echelon.New(echelon.Config{
			MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL, PaymentMethod: "VAPAY",
		}, paykit.WithLimiter(noLimit{}))
		if err != nil {
			b.Fatal(err)
		}
		var p paykit.Provider = c
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			pay, err := p.CreatePayment(ctx, paykit.PaymentRequest{Amount: amount})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.GetPayment(ctx, pay.ID); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("net/http", func(b *testing.B) {
		// The same idle-connection settings as paykit's default transport, so that the
		// comparison is of the code, not of the connection pool.
		hc := &http.Client{Transport: transport.DefaultHTTPTransport()}
		hdr := benchhttp.Bearer(bareToken(b, hc, fake.URL), "X-API-Version", "2")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := ids.UUID()
			body, _ := json.Marshal(map[string]any{
				"paymentRequested": map[string]any{"money": map[string]any{"amount": json.Number("42.05"), "currencyCode": "USD"}},
				"paymentMethod":    map[string]any{"paymentMethodCode": "VAPAY"},
			})
			var created, got barePayin
			benchhttp.Do(b, hc, "POST", fake.URL+"/payins/"+id, hdr, body, &created)
			benchhttp.Do(b, hc, "GET", fake.URL+"/payins/"+id, hdr, nil, &got)
		}
	})
}

type bareMoney struct {
	Amount       json.Number `json:"amount"`
	CurrencyCode string      `json:"currencyCode"`
}

type barePayin struct {
	PaymentRequested struct {
		Money bareMoney `json:"money"`
	} `json:"paymentRequested"`
	Process struct {
		Status      string  `json:"status"`
		CreatedAt   string  `json:"createdAt"`
		ProcessedAt *string `json:"processedAt"`
	} `json:"process"`
	Fee                   bareMoney `json:"fee"`
	PaymentMethodResponse struct {
		IDPayin     string    `json:"idPayin"`
		Money       bareMoney `json:"money"`
		ExpireAt    string    `json:"expireAt"`
		Reference   string    `json:"reference"`
		RedirectURL string    `json:"redirectUrl"`
	} `json:"paymentMethodResponse"`
}

func bareToken(b *testing.B, hc *http.Client, base string) string {
	body, _ := json.Marshal(map[string]any{
		"merchantCode": echelontest.DefaultMerchantCode, "secret": echelontest.DefaultSecret, "validitySecs": 600,
		"operations": []string{"POST /payins/[^/]+", "GET /payins/[^/]+"},
	})
	var out struct {
		Token string `json:"token"`
	}
	benchhttp.Do(b, hc, "POST", base+"/auth-tokens", benchhttp.Bearer("", "X-API-Version", "2"), body, &out)
	return out.Token
}

// BenchmarkDefaultLimiterUnderLoad sends 40 concurrent GetPayin calls per iteration through
// the default limiter, against the fake that answers 429 past 10 requests in any second, and
// reports the most requests any 1-second window saw at the fake (max/window), the sustained
// rate (10 over the mean time between a start and the tenth next, req/s) and the 429s. One
// iteration lasts about 4 seconds: run it with -benchtime=1x.
func BenchmarkDefaultLimiterUnderLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		fake := echelontest.NewServer(echelontest.Config{})
		c, err := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var wg sync.WaitGroup
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = c.GetPayin(ctx, "none") // 404: only the count matters
			}()
		}
		wg.Wait()
		var times []time.Time
		throttled := 0
		for _, call := range fake.CallLog() {
			times = append(times, call.Time)
			if call.Status == 429 {
				throttled++
			}
		}
		fake.Close()
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		most := 0
		for i := range times {
			n := sort.Search(len(times), func(j int) bool { return !times[j].Before(times[i].Add(time.Second)) }) - i
			most = max(most, n)
		}
		var gaps time.Duration
		for i := 10; i < len(times); i++ {
			gaps += times[i].Sub(times[i-10])
		}
		b.ReportMetric(float64(most), "max/window")
		b.ReportMetric(10/(gaps/time.Duration(len(times)-10)).Seconds(), "req/s")
		b.ReportMetric(float64(throttled), "429s")
	}
}
