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
	"github.com/paykit/paykit/internal/fakeserver"
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

// TestSandboxFaults: a fault put through the API (and the CLI) reaches the provider's fake:
// a 503 on the next call, which the client retries through; a dropped answer; lost
// notifications; unknown faults are 400; the dashboard offers the buttons.
func TestSandboxFaults(t *testing.T) {
	t.Parallel()
	sb := NewSandbox(Creds{EcsterAPIKey: "k1", EcsterMerchantKey: "k2", EntrecardSellerID: "1", EntrecardSecret: "s"}, "", "")
	defer sb.Close()
	dash := httptest.NewServer(sb.Handler())
	defer dash.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := ecster.New(ecster.Config{APIKey: "k1", MerchantKey: "k2", BaseURL: sb.URLs["ecster"], ShopTermsURL: "https://shop.example/terms"},
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer receiver.Close()
	req := paykit.PaymentRequest{ID: "order-2", Amount: paykit.Money{Amount: 10000, Currency: "SEK"}, NotifyURL: receiver.URL,
		Items: []paykit.Item{{Name: "Tent", Quantity: 1, UnitAmount: paykit.Money{Amount: 10000, Currency: "SEK"}, VATRate: 2500}}}

	post := func(path string) int {
		resp, err := http.Post(dash.URL+path, "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, post("/api/ecster/fault/unavailable-next"))
	_, err = client.CreatePayment(ctx, req)
	require.ErrorIs(t, err, paykit.ErrUnavailable, "the fault answered the next call 503")
	_, err = client.CreatePayment(ctx, req)
	require.NoError(t, err, "one call only")

	var out, errOut bytes.Buffer
	require.Equal(t, 0, cli([]string{"fault", "-sandbox", dash.URL, "ecster", "lose-notifications"}, &out, &errOut), errOut.String())
	_, err = sb.Ecster.Pay("order-2")
	require.NoError(t, err)
	require.ErrorIs(t, sb.Ecster.WaitDelivered(ctx, "order-2"), fakeserver.ErrLost)

	assert.Equal(t, http.StatusBadRequest, post("/api/ecster/fault/explode"))
	assert.Equal(t, http.StatusBadRequest, post("/api/nowhere/fault/slow"))
	resp, err := http.Get(dash.URL + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(page), `value="drop-next"`)
}
