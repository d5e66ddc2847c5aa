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

	"github.com/paykit/paykit/ecredits/ecreditstest"
)

// A merchant's test: create a transaction request in EUR, let the customer pay, and wait
// for the signed webhook to reach the merchant's handler.
func Example() {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct {
			RequestID, Signature string
			Status               int
		}
		_ = json.NewDecoder(r.Body).Decode(&n)
		ok := n.Signature == ecreditstest.SignWebhook(ecreditstest.DefaultWebhookSecret, n.RequestID)
		fmt.Println("webhook:", n.RequestID, "status", n.Status, "signature ok:", ok)
	}))
	defer hook.Close()

	srv := ecreditstest.NewServer(ecreditstest.Config{WebhookURL: hook.URL})
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("delivered:", srv.WaitDelivered(ctx, id) == nil)
	// Output:
	// asked: 99.99 EUR = 9999 ECS
	// qr: eCreditsPayment:70df7B42-2926-4fa7-8fed-c5805f823167
	// webhook: 70df7B42-2926-4fa7-8fed-c5805f823167 status 1 signature ok: true
	// delivered: true
}

// Testing a webhook handler without a server: NewWebhookRequest builds what eCredits posts.
func ExampleNewWebhookRequest() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Println(string(b))
	})
	req := ecreditstest.NewWebhookRequest("/webhooks/ecredits", ecreditstest.DefaultWebhookSecret, ecreditstest.WebhookEvent{
		RequestID:       "70df7B42-2926-4fa7-8fed-c5805f823167",
		Status:          ecreditstest.StatusSettled,
		TransactionHash: "0x9c81985ce77c8e9990d854460d14462cd1737136df66efd17f31cdba66e41963",
	})
	handler.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// {"requestId":"70df7B42-2926-4fa7-8fed-c5805f823167","status":1,"transactionHash":"0x9c81985ce77c8e9990d854460d14462cd1737136df66efd17f31cdba66e41963","signature":"f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks=","testMode":false}
}
