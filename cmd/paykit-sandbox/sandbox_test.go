package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
)

// TestSandboxControlAPIAndForward: a backend creates a payment at the sandbox's Ecster; the
// control API pays it and the OEN goes to the -forward-to URL; GET /api/payments shows the
// payment READY with its delivered notification; the CLI redelivers it; unknown payments and
// actions are 404 and 400.
func TestSandboxControlAPIAndForward(t *testing.T) {
	t.Parallel()
	got := make(chan string, 8)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.URL.RequestURI() + " " + string(b)
	}))
	defer receiver.Close()
	sb := NewSandbox(Creds{EcsterAPIKey: "k1", EcsterMerchantKey: "k2", EntrecardSellerID: "1", EntrecardSecret: "s"}, receiver.URL+"/hooks", "")
	defer sb.Close()
	dash := httptest.NewServer(sb.Handler())
	defer dash.Close()

	client, err := ecster.New(ecster.Config{APIKey: "k1", MerchantKey: "k2", BaseURL: sb.URLs["ecster"], ShopTermsURL: "https://shop.example/terms"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{ID: "order-1", Amount: paykit.Money{Amount: 10000, Currency: "SEK"},
		Items:     []paykit.Item{{Name: "Tent", Quantity: 1, UnitAmount: paykit.Money{Amount: 10000, Currency: "SEK"}, VATRate: 2500}},
		NotifyURL: "https://merchant.example/webhooks/ecster"})
	require.NoError(t, err)

	resp, err := http.Post(dash.URL+"/api/ecster/pay/"+pay.ID, "application/json", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	select {
	case n := <-got:
		assert.Contains(t, n, "/hooks")
		assert.Contains(t, n, `"orderReference":"order-1"`)
	case <-ctx.Done():
		t.Fatal("no notification forwarded")
	}
	require.NoError(t, sb.Ecster.WaitDelivered(ctx, pay.ID))

	resp, err = http.Get(dash.URL + "/api/payments")
	require.NoError(t, err)
	var list []Payment
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	resp.Body.Close()
	require.Len(t, list, 1)
	assert.Equal(t, "ecster", list[0].Provider)
	assert.Equal(t, string(ecster.OrderReady), list[0].State)
	require.Len(t, list[0].Notifications, 1)
	assert.True(t, list[0].Notifications[0].Delivered)
	assert.Equal(t, []int{200}, list[0].Notifications[0].Answers)

	var out, errOut bytes.Buffer
	assert.Equal(t, 0, cli([]string{"redeliver", "-sandbox", dash.URL, "ecster", "order-1"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "answered 200")
	<-got

	for path, want := range map[string]int{"/api/ecster/pay/nope": 404, "/api/ecster/explode/order-1": 400, "/api/ecster/pay/order-1": 409} {
		resp, err := http.Post(dash.URL+path, "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, path)
	}

	resp, err = http.Get(dash.URL + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(page), "order-1")
	assert.Contains(t, string(page), "READY")
}
