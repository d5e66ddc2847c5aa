package echelon_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

// A direct payin through the paykit.Provider interface, against the fake EchelonPay: the
// customer pays, the callback reaches paykit.NewWebhookHandler, which fetches the payin.
func Example() {
	// The merchant's callback endpoint listens first, so that its URL can go into the payin.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()

	client, err := echelon.New(echelon.Config{
		MerchantCode:  echelontest.DefaultMerchantCode,
		Secret:        echelontest.DefaultSecret,
		BaseURL:       fake.URL, // empty: echelon.ProductionURL
		PaymentMethod: "VAPAY",  // a direct payin by bank transfer to a virtual account
	})
	if err != nil {
		panic(err)
	}
	var p paykit.Provider = client

	done := make(chan *paykit.Payment, 1)
	srv := &http.Server{Handler: paykit.NewWebhookHandler(p, func(ctx context.Context, n *paykit.Notification) error {
		done <- n.Payment // fetched from EchelonPay: the callback itself says nothing
		return nil
	})}
	go srv.Serve(ln)
	defer srv.Close()

	ctx := context.Background()
	pay, err := p.CreatePayment(ctx, paykit.PaymentRequest{
		ID:        "order-1001",
		Amount:    paykit.Money{Amount: 500000, Currency: "INR"}, // 5000 INR
		NotifyURL: "http://" + ln.Addr().String() + "/callbacks/echelon?shop=7",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(pay.Status, pay.ProviderStatus, pay.Amount, pay.ProviderID)

	if _, err := fake.Pay(pay.ID); err != nil { // the customer transfers the money
		panic(err)
	}
	select {
	case got := <-done:
		fmt.Println("callback:", got.ID, got.Status, got.ProviderStatus, got.Captured)
	case <-time.After(5 * time.Second):
		fmt.Println("no callback")
	}
	// Output:
	// pending NEW 5000.00 INR order-1001
	// callback: order-1001 succeeded SUCCESS 5000.00 INR
}

// The web-app flow: with no PaymentMethod, CreatePayment mints a PAYIN_CREATE token limited to
// the payment's id and amount, for EchelonPay's payment web app, which creates the payin.
func ExampleClient_CreatePayment_webApp() {
	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()
	client, _ := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL,
	})

	ctx := context.Background()
	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{ID: "TST-112233", Amount: paykit.Money{Amount: 4205, Currency: "USD"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(pay.Status, pay.Action.Type, pay.Action.Token != "")
	// The web app has not created the payin yet: this client answers what it created,
	// another one (a replica) does not know it.
	got, err := client.GetPayment(ctx, pay.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Status, got.Action.Type, got.Action.Token == pay.Action.Token)
	replica, _ := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL,
	})
	_, err = replica.GetPayment(ctx, pay.ID)
	fmt.Println(errors.Is(err, paykit.ErrNotFound))

	tok := fake.Tokens()[1] // the first is the client's own backend token (the replica has one too)
	fmt.Println(tok.Action, tok.PaymentID, tok.Money)
	for _, op := range tok.Operations {
		fmt.Println(op)
	}
	// Output:
	// pending client_token true
	// pending client_token true
	// true
	// PAYIN_CREATE TST-112233 42.05 USD
	// POST /payins/!availablePaymentOptions
	// POST /payins/TST-112233
	// GET /payins/TST-112233
}

// A payout through the native API.
func ExampleClient_CreatePayout() {
	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()
	client, _ := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL,
	})
	ctx := context.Background()
	out, err := client.CreatePayout(ctx, echelon.PayoutRequest{
		ID:            "payout-1",
		Amount:        paykit.Money{Amount: 10000_00, Currency: "IDR"},
		Method:        "BANK_TRANSFER",
		Operator:      "BNK_000",
		AccountName:   "Jane Doe",
		AccountNumber: "1234567890",
		Email:         "jane@example.com",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.ID, out.Amount, out.Fee, out.Status, out.ProviderStatus)
	_, _ = fake.Pay(out.ID) // the operator pays it out
	out, _ = client.GetPayout(ctx, out.ID)
	fmt.Println(out.Status, out.ProviderStatus)
	// Output:
	// payout-1 10000.00 IDR 100.00 IDR pending NEW
	// succeeded SUCCESS
}

// Payout callbacks: PayoutWebhookHandler fetches the payout a callback names and runs the
// function once per state, however often EchelonPay calls back.
func ExampleClient_PayoutWebhookHandler() {
	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()
	client, _ := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL,
	})
	hook := httptest.NewServer(client.PayoutWebhookHandler(func(ctx context.Context, p *echelon.Payout) error {
		fmt.Println("payout", p.ID, p.Status, p.Amount)
		return nil
	}))
	defer hook.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := client.CreatePayout(ctx, echelon.PayoutRequest{
		ID: "payout-7", Amount: paykit.Money{Amount: 250000, Currency: "INR"},
		Method: "BANK_TRANSFER", AccountName: "Asha Rao", AccountNumber: "001234567890",
		CallbackURL: hook.URL,
	})
	if err != nil {
		panic(err)
	}
	_, _ = fake.Pay("payout-7")
	_ = fake.WaitDelivered(ctx, "payout-7")
	status, _ := fake.Redeliver(ctx, "payout-7") // a copy: acknowledged, the function not run again
	fmt.Println("redelivery answered", status)
	// Output:
	// payout payout-7 succeeded 2500.00 INR
	// redelivery answered 200
}

// The payment methods for an amount; the endpoint's '!' goes on the wire as it is.
func ExampleClient_PaymentOptions() {
	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()
	client, _ := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL,
	})
	opts, err := client.PaymentOptions(context.Background(), paykit.Money{Amount: 500000, Currency: "INR"})
	if err != nil {
		panic(err)
	}
	for _, o := range opts {
		fmt.Println(o.Method, o.Operators[0].Code)
	}
	fmt.Println(fake.CallLog()[1].Path)
	// Output:
	// VAPAY BNK_000
	// OFFLINE BNK_000
	// EWALLET EWL_000
	// /payins/!availablePaymentOptions
}

// Operations EchelonPay cannot do say so in advance and in their errors.
func ExampleClient_Refund() {
	client, _ := echelon.New(echelon.Config{MerchantCode: "M-1", Secret: "secret", BaseURL: echelon.SandboxURL})
	fmt.Println(client.Capabilities().Refund, client.Capabilities().Payouts)
	_, err := client.Refund(context.Background(), "order-1001", paykit.Money{Amount: 100, Currency: "INR"})
	fmt.Println(errors.Is(err, paykit.ErrUnsupported))
	// Output:
	// false true
	// true
}

// Testing with httpmock: the client takes the merchant's *http.Client as it is, so
// httpmock.ActivateNonDefault after New intercepts every request; paykit.NoLimit switches the
// 10-requests-per-second limiter off (nothing real is called); the answers come from
// echelontest's body builders, which write exactly what the fake EchelonPay answers.
func Example_httpmock() {
	hc := &http.Client{}
	client, err := echelon.New(echelon.Config{
		MerchantCode:  "M-1",
		Secret:        "test-secret",
		BaseURL:       echelon.SandboxURL,
		PaymentMethod: echelontest.MethodVirtualAccount,
	}, paykit.WithHTTPClient(hc), paykit.WithLimiter(paykit.NoLimit))
	if err != nil {
		panic(err)
	}
	httpmock.ActivateNonDefault(hc)
	defer httpmock.DeactivateAndReset()

	payin := echelontest.Payin{
		ID:            "order-1001",
		Amount:        paykit.Money{Amount: 500000, Currency: "INR"},
		Method:        echelontest.MethodVirtualAccount,
		Status:        echelontest.ProcessNew,
		BankName:      "Echelon Test Bank",
		AccountNumber: "880000000001",
		Reference:     "VA000001",
		CreatedAt:     time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		ExpireAt:      time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC),
	}
	paid := payin
	paid.Status, paid.ProcessedAt = echelontest.ProcessSuccess, time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
	api := echelon.SandboxURL
	httpmock.RegisterResponder("POST", api+"/auth-tokens", httpmock.NewBytesResponder(200, echelontest.TokenBody("mock-token")))
	httpmock.RegisterResponder("POST", api+"/payins/order-1001", httpmock.NewBytesResponder(200, echelontest.PayinBody(payin)))
	httpmock.RegisterResponder("GET", api+"/payins/order-1001", httpmock.NewBytesResponder(200, echelontest.PayinBody(paid)))
	httpmock.RegisterResponder("GET", api+"/payins/order-404",
		httpmock.NewBytesResponder(404, echelontest.ErrorBody("NOT_FOUND", "No payin order-404.")))

	ctx := context.Background()
	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{ID: "order-1001", Amount: paykit.Money{Amount: 500000, Currency: "INR"}})
	if err != nil {
		panic(err)
	}
	tr := pay.Action.Transfer
	fmt.Println(pay.Status, pay.Action.Type, tr.BankName, tr.AccountNumber, tr.Reference, tr.Amount)

	pay, err = client.GetPayment(ctx, "order-1001")
	if err != nil {
		panic(err)
	}
	fmt.Println(pay.Status, pay.Captured, pay.Action == nil)

	_, err = client.GetPayment(ctx, "order-404")
	fmt.Println(errors.Is(err, paykit.ErrNotFound))
	fmt.Println(httpmock.GetTotalCallCount(), "requests, none on the network")
	// Output:
	// pending bank_transfer Echelon Test Bank 880000000001 VA000001 5000.00 INR
	// succeeded 5000.00 INR true
	// true
	// 4 requests, none on the network
}
