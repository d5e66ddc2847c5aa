package transport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/paykit/paykit"
)

// benchBody is a typical small JSON answer.
var benchBody = []byte(`{"id":"pay_123","amount":4200,"currency":"EUR","status":"SUCCESS","createdAt":"2025-03-01T12:00:00Z"}`)

type benchPayment struct {
	ID        string `json:"id"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	CreatedAt string `json:"createdAt"`
}

func benchServer(b *testing.B) string {
	srv, _ := newServer(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchBody)
	})
	return srv.URL
}

// BenchmarkDo is one GET with JSON decoding through Client.Do (no limiter, no token, no
// logger). Compare with BenchmarkBareNetHTTP, the same exchange with net/http alone.
func BenchmarkDo(b *testing.B) {
	c := newTestClient(b, benchServer(b), func(cfg *Config) { cfg.Settings.Retry = paykit.DefaultRetryPolicy })
	ctx := context.Background()
	req := Request{Op: "get payment", Method: http.MethodGet, Path: "/payments/pay_123", Repeatable: true}
	b.ReportAllocs()
	for b.Loop() {
		var out benchPayment
		req.Result = &out
		if _, err := c.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
		if out.Amount != 4200 {
			b.Fatalf("decoded %+v", out)
		}
	}
}

// BenchmarkBareNetHTTP is BenchmarkDo's exchange with net/http and encoding/json, on a
// transport with the same idle-connection settings and the same headers.
func BenchmarkBareNetHTTP(b *testing.B) {
	base := benchServer(b)
	hc := &http.Client{Transport: DefaultHTTPTransport()}
	ctx := context.Background()
	ua := "paykit-go/" + paykit.Version + " (testprov)"
	b.ReportAllocs()
	for b.Loop() {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/payments/pay_123", nil)
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("User-Agent", ua)
		r.Header.Set("Accept", "application/json")
		resp, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(err, resp.StatusCode)
		}
		var out benchPayment
		if err := json.Unmarshal(body, &out); err != nil {
			b.Fatal(err)
		}
		if out.Amount != 4200 {
			b.Fatalf("decoded %+v", out)
		}
	}
}
