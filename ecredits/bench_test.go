package ecredits_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/internal/benchhttp"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/transport"
)

// BenchmarkRoundTrip measures CreatePayment + GetPayment (three requests: create, get, paid)
// through paykit, beside the same three requests made with bare net/http and encoding/json,
// against the same fake in the same run. Divide paykit's ns/op by net/http's for the ratio
// (target ≤ 1.3).
func BenchmarkRoundTrip(b *testing.B) {
	srv := ecreditstest.NewServer(ecreditstest.Config{})
	defer srv.Close()
	ctx := context.Background()

	b.Run("paykit", func(b *testing.B) {
		c, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret, BaseURL: srv.URL})
		if err != nil {
			b.Fatal(err)
		}
		var p paykit.Provider = c
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			pay, err := p.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 9999, Currency: "EUR"}})
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
		hdr := benchhttp.Bearer(bareAuth(b, hc, srv.URL))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := ids.UUID()
			body, _ := json.Marshal(map[string]any{"id": id, "amountDue": json.Number("99.99"), "currencyCode": "EUR", "paymentReference": id, "generateQrCode": false, "testMode": false})
			var created, got bareRequest
			benchhttp.Do(b, hc, "POST", srv.URL+"/api/v1/requests", hdr, body, &created)
			benchhttp.Do(b, hc, "GET", srv.URL+"/api/v1/requests/"+id, hdr, nil, &got)
			var paid bool
			benchhttp.Do(b, hc, "GET", srv.URL+"/api/v1/requests/"+id+"/paid", hdr, nil, &paid)
		}
	})
}

type bareRequest struct {
	ID               string      `json:"id"`
	FiatCurrencyCode *string     `json:"fiatCurrencyCode"`
	FiatAmountDue    json.Number `json:"fiatAmountDue"`
	AmountDue        json.Number `json:"amountDue"`
	CurrencyCode     string      `json:"currencyCode"`
	QRCodeString     string      `json:"qrCodeString"`
	Href             string      `json:"href"`
	PaymentReference *string     `json:"paymentReference"`
	ExpiresAt        string      `json:"expiresAt"`
}

func bareAuth(b *testing.B, hc *http.Client, base string) string {
	body, _ := json.Marshal(map[string]string{"secret": ecreditstest.DefaultSecret, "clientId": ecreditstest.DefaultClientID})
	var out struct {
		Token string `json:"token"`
	}
	benchhttp.Do(b, hc, "POST", base+"/api/authentication", benchhttp.Bearer(""), body, &out)
	return out.Token
}
