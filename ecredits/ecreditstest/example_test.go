package ecreditstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
)

// A merchant's test of an eCredits checkout, as it reads for every paykit fake: the
// merchant's server listens first, so that its webhook URL can go into the fake's Config;
// then come the fake, the client and the webhook handler. The payment is created through
// paykit.Provider, the customer pays through a control method, the signed webhook reaches
// paykit.NewWebhookHandler, WaitDelivered waits for its 200, and GetPayment shows the
// payment succeeded.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// 1. The merchant's server: listening before anything else, handlers added below.
	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	defer shop.Close()

	// 2. The fake, with the webhook URL the eCredits portal would hold.
	srv := ecreditstest.NewServer(ecreditstest.Config{NotifyURL: shop.URL + "/webhooks/ecredits"})
	defer srv.Close()

	// 3. The client, pointed at the fake, and the merchant's webhook handler.
	client, err := ecredits.New(ecredits.Config{
		ClientID:      ecreditstest.DefaultClientID,
		Secret:        ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret,
		BaseURL:       srv.URL,
	})
	if err != nil {
		panic(err)
	}
	var provider paykit.Provider = client
	mux.Handle("/webhooks/ecredits", paykit.NewWebhookHandler(provider, func(_ context.Context, n *paykit.Notification) error {
		fmt.Println("webhook:", n.Event, "→", n.Payment.Status)
		return nil
	}))

	// 4. The checkout.
	p, err := provider.CreatePayment(ctx, paykit.PaymentRequest{
		Amount:    paykit.Money{Amount: 9999, Currency: "EUR"},
		Reference: "order-1001",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", p.Status, p.Action.Type)

	if _, err := srv.Pay(p.ID); err != nil { // the customer scans the code and pays
		panic(err)
	}
	if err := srv.WaitDelivered(ctx, p.ID); err != nil {
		panic(err)
	}
	got, err := provider.GetPayment(ctx, p.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("payment:", got.Status, got.Captured)
	// Output:
	// created: pending qr_code
	// webhook: Settled → succeeded
	// payment: succeeded 99.99 EUR
}

// The fake speaks the Widget API over plain HTTP too: authenticate, create a transaction
// request in EUR, and receive the signed webhook when the customer pays.
func Example_widgetAPI() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := ecredits.VerifyWebhook(ecreditstest.DefaultWebhookSecret, body)
		fmt.Println("webhook:", ev.RequestID, ev.Status, "signature error:", err)
	}))
	defer hook.Close()

	srv := ecreditstest.NewServer(ecreditstest.Config{NotifyURL: hook.URL})
	defer srv.Close()

	post := func(path, token, body string) []byte {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}

	var auth struct{ Token string }
	_ = json.Unmarshal(post("/api/authentication", "",
		`{"secret":"`+ecreditstest.DefaultSecret+`","clientId":"`+ecreditstest.DefaultClientID+`"}`), &auth)

	const id = "70df7B42-2926-4fa7-8fed-c5805f823167"
	var created struct {
		FiatAmountDue, AmountDue json.Number
		FiatCurrencyCode         string
		CurrencyCode             string
		QRCodeString             string
	}
	dec := json.NewDecoder(bytes.NewReader(post("/api/v1/requests", auth.Token,
		`{"id":"`+id+`","amountDue":99.99,"currencyCode":"EUR","paymentReference":"OrderId123"}`)))
	dec.UseNumber()
	_ = dec.Decode(&created)
	fmt.Println("asked:", created.FiatAmountDue, created.FiatCurrencyCode, "=", created.AmountDue, created.CurrencyCode)
	fmt.Println("qr:", created.QRCodeString)

	if _, err := srv.Pay(id); err != nil {
		panic(err)
	}
	fmt.Println("delivered:", srv.WaitDelivered(ctx, id) == nil)
	// Output:
	// asked: 99.99 EUR = 9999 ECS
	// qr: eCreditsPayment:70df7B42-2926-4fa7-8fed-c5805f823167
	// webhook: 70df7B42-2926-4fa7-8fed-c5805f823167 Settled signature error: <nil>
	// delivered: true
}

// Testing a webhook handler without a server: NewWebhookRequest builds what eCredits posts.
func ExampleNewWebhookRequest() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Println(string(b))
	})
	req := ecreditstest.NewWebhookRequest("/webhooks/ecredits", ecreditstest.DefaultWebhookSecret, ecredits.WebhookEvent{
		RequestID:       "70df7B42-2926-4fa7-8fed-c5805f823167",
		Status:          ecredits.RequestSettled,
		TransactionHash: "0x9c81985ce77c8e9990d854460d14462cd1737136df66efd17f31cdba66e41963",
	})
	handler.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// {"requestId":"70df7B42-2926-4fa7-8fed-c5805f823167","status":1,"transactionHash":"0x9c81985ce77c8e9990d854460d14462cd1737136df66efd17f31cdba66e41963","signature":"f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks=","testMode":false}
}
