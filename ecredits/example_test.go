package ecredits_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
)

// A checkout through the paykit.Provider interface, against the fake eCredits.
func Example() {
	fake := ecreditstest.NewServer(ecreditstest.Config{})
	defer fake.Close()

	client, err := ecredits.New(ecredits.Config{
		ClientID:      ecreditstest.DefaultClientID,
		Secret:        ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret,
		BaseURL:       fake.URL, // empty: ecredits.ProductionURL
	})
	if err != nil {
		panic(err)
	}
	var p paykit.Provider = client
	ctx := context.Background()

	pay, err := p.CreatePayment(ctx, paykit.PaymentRequest{
		ID:     "70df7b42-2926-4fa7-8fed-c5805f823167",
		Amount: paykit.Money{Amount: 9999, Currency: "EUR"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(pay.Status, pay.Amount, pay.Action.Type)
	fmt.Println("QR:", pay.Action.QRCode)

	if _, err := fake.Pay(pay.ID); err != nil { // the customer scans and pays
		panic(err)
	}
	pay, err = p.GetPayment(ctx, pay.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(pay.Status, pay.ProviderStatus, pay.Captured)
	// Output:
	// pending 99.99 EUR qr_code
	// QR: eCreditsPayment:70df7b42-2926-4fa7-8fed-c5805f823167
	// succeeded Settled 99.99 EUR
}

// The ECS figure that eCredits converted a EUR amount into stays on the native type.
func ExampleClient_CreateRequest() {
	fake := ecreditstest.NewServer(ecreditstest.Config{})
	defer fake.Close()
	client, _ := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret, BaseURL: fake.URL})

	r, err := client.CreateRequest(context.Background(), ecredits.CreateRequestParams{
		ID:               "70df7B42-2926-4fa7-8fed-c5805f823167",
		Amount:           paykit.Money{Amount: 9999, Currency: "EUR"},
		PaymentReference: "OrderId123",
		GenerateQRCode:   true,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Asked(), "→", r.AmountDue)
	fmt.Println(r.Href)
	fmt.Println(r.QRCodeBase64 != "")
	// Output:
	// 99.99 EUR → 9999.00 ECS
	// https://auth.ecredits.com/payment?code=70df7B42-2926-4fa7-8fed-c5805f823167
	// true
}

// Sign makes the signature eCredits puts on a webhook; the vector is the document's secret.
func ExampleSign() {
	fmt.Println(ecredits.Sign("TheSigningSecretOfTheWebHook", "70df7B42-2926-4fa7-8fed-c5805f823167"))
	// Output: f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks=
}

// A webhook endpoint: paykit.NewWebhookHandler verifies the signature, drops redeliveries,
// fetches the request (only the fetched state is trusted), then calls the function.
func ExampleClient_ParseNotification() {
	fake := ecreditstest.NewServer(ecreditstest.Config{})
	defer fake.Close()
	client, _ := ecredits.New(ecredits.Config{
		ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: fake.URL,
	})
	handler := paykit.NewWebhookHandler(client, func(ctx context.Context, n *paykit.Notification) error {
		fmt.Println("fulfil", n.PaymentID, n.Payment.Status)
		return nil
	})

	pay, _ := client.CreatePayment(context.Background(), paykit.PaymentRequest{
		ID: "70df7b42-2926-4fa7-8fed-c5805f823167", Amount: paykit.Money{Amount: 500, Currency: "ECS"},
	})
	_, _ = fake.Pay(pay.ID)
	ev := ecredits.WebhookEvent{RequestID: pay.ID, Status: ecredits.RequestSettled}
	for range 2 { // the second is a redelivery: acknowledged, fn not run again
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, ecreditstest.NewWebhookRequest("/webhooks/ecredits", ecreditstest.DefaultWebhookSecret, ev))
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// A forged one is refused.
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, ecreditstest.NewWebhookRequest("/webhooks/ecredits", "guessed", ev))
	fmt.Println(rec.Code)
	// Output:
	// fulfil 70df7b42-2926-4fa7-8fed-c5805f823167 succeeded
	// 200 ok
	// 200 already processed
	// 401
}

// Operations eCredits cannot do say so in advance and in their errors.
func ExampleClient_Refund() {
	client, _ := ecredits.New(ecredits.Config{ClientID: "3fa85f34-5717-4562-b3fc-2c963f66afa7", Secret: "key", BaseURL: ecredits.SandboxURL})
	fmt.Println(client.Capabilities().Refund)
	_, err := client.Refund(context.Background(), "70df7b42-2926-4fa7-8fed-c5805f823167", paykit.Money{Amount: 100, Currency: "EUR"})
	fmt.Println(errors.Is(err, paykit.ErrUnsupported))
	// Output:
	// false
	// true
}

// Testing a merchant's own code with httpmock: the client uses the *http.Client given with
// paykit.WithHTTPClient as it is, so httpmock.ActivateNonDefault after New intercepts every
// call, and nothing reaches the network. The responders answer with ecreditstest's builders,
// which give exactly the bodies the fake eCredits answers.
func Example_httpmock() {
	hc := &http.Client{}
	client, err := ecredits.New(ecredits.Config{
		ClientID: ecreditstest.DefaultClientID,
		Secret:   ecreditstest.DefaultSecret,
		BaseURL:  ecredits.SandboxURL,
	}, paykit.WithHTTPClient(hc))
	if err != nil {
		panic(err)
	}
	httpmock.ActivateNonDefault(hc) // after New: the client calls through hc itself
	defer httpmock.DeactivateAndReset()

	const id = "70df7b42-2926-4fa7-8fed-c5805f823167"
	request := ecreditstest.TransactionRequest{
		ID:               id,
		AmountDue:        paykit.Money{Amount: 999900, Currency: "ECS"}, // 9999 ECS for 99.99 EUR
		FiatAmountDue:    paykit.Money{Amount: 9999, Currency: "EUR"},
		PaymentReference: "order-1001",
		ExpiresAt:        time.Now().Add(15 * time.Minute),
	}
	base := ecredits.SandboxURL
	httpmock.RegisterResponder(http.MethodPost, base+ecreditstest.RouteAuthentication,
		httpmock.NewBytesResponder(200, ecreditstest.AuthBody("mock-token", time.Now().Add(time.Hour))))
	httpmock.RegisterResponder(http.MethodPost, base+ecreditstest.RouteRequests,
		httpmock.NewBytesResponder(200, ecreditstest.RequestBody(request)))
	httpmock.RegisterResponder(http.MethodGet, base+"/api/v1/requests/"+id,
		httpmock.NewBytesResponder(200, ecreditstest.RequestBody(request)))
	httpmock.RegisterResponder(http.MethodGet, base+"/api/v1/requests/"+id+"/paid",
		httpmock.NewBytesResponder(200, ecreditstest.PaidBody(true)))

	ctx := context.Background()
	p, err := client.CreatePayment(ctx, paykit.PaymentRequest{
		ID:        id,
		Amount:    paykit.Money{Amount: 9999, Currency: "EUR"},
		Reference: "order-1001",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Status, p.Amount, p.Reference, p.Action.Type)

	p, err = client.GetPayment(ctx, id) // the mock says it is paid
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Status, p.Captured, p.Reference)
	fmt.Println(httpmock.GetCallCountInfo()["GET "+base+"/api/v1/requests/"+id+"/paid"], "call to /paid")
	// Output:
	// pending 99.99 EUR order-1001 qr_code
	// succeeded 99.99 EUR order-1001
	// 1 call to /paid
}
