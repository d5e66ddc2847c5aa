package paykit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paykit/paykit"
)

func ExampleMoney_Decimal() {
	for _, m := range []paykit.Money{{Amount: 9999, Currency: "EUR"}, {Amount: 5, Currency: "SEK"}, {Amount: 1500, Currency: "JPY"}} {
		d, err := m.Decimal()
		fmt.Println(d, err)
	}
	// Output:
	// 99.99 <nil>
	// 0.05 <nil>
	// 1500 <nil>
}

func ExampleParseMoney() {
	m, err := paykit.ParseMoney("99.990", "EUR")
	fmt.Println(m.Amount, m.Currency, err)
	_, err = paykit.ParseMoney("99.999", "EUR")
	fmt.Println(err)
	// Output:
	// 9999 EUR <nil>
	// paykit: "99.999" has more than 2 fraction digits for EUR
}

func ExampleError() {
	var err error = &paykit.Error{Provider: "ecredits", Op: "get request", StatusCode: 404, Kind: paykit.ErrNotFound}
	err = fmt.Errorf("order 42: %w", err)

	fmt.Println(errors.Is(err, paykit.ErrNotFound))
	var pe *paykit.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Provider, pe.StatusCode)
	}
	fmt.Println(err)
	// Output:
	// true
	// ecredits 404
	// order 42: paykit: ecredits: get request: 404 not found
}

// formProvider is a toy provider for the example: its notifications are forms
// "payment=ID&event=WORD" signed with the header X-Signature: secret.
type formProvider struct{}

func (formProvider) Name() string                      { return "toy" }
func (formProvider) Capabilities() paykit.Capabilities { return paykit.Capabilities{Webhooks: true} }
func (formProvider) CreatePayment(context.Context, paykit.PaymentRequest) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (formProvider) Capture(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (formProvider) Refund(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}
func (formProvider) Cancel(context.Context, string, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, paykit.ErrUnsupported
}

func (formProvider) GetPayment(_ context.Context, id string) (*paykit.Payment, error) {
	return &paykit.Payment{Provider: "toy", ID: id, Amount: paykit.Money{Amount: 9999, Currency: "EUR"}, Status: paykit.StatusSucceeded}, nil
}

func (formProvider) ParseNotification(r *http.Request) (*paykit.Notification, error) {
	if r.Header.Get("X-Signature") != "secret" {
		return nil, &paykit.Error{Provider: "toy", Op: "parse notification", Kind: paykit.ErrInvalidSignature}
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("payment") == "" {
		return nil, &paykit.Error{Provider: "toy", Op: "parse notification", Kind: paykit.ErrInvalidRequest, Err: err}
	}
	id, event := r.PostForm.Get("payment"), r.PostForm.Get("event")
	return &paykit.Notification{Provider: "toy", PaymentID: id, Event: event, DedupKey: id + "/" + event}, nil
}

func ExampleNewWebhookHandler() {
	handler := paykit.NewWebhookHandler(formProvider{}, func(ctx context.Context, n *paykit.Notification) error {
		// n.Payment is what GetPayment returned, not what the notification claimed.
		fmt.Println("fulfil", n.PaymentID, n.Payment.Status, n.Payment.Amount)
		return nil
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	send := func(signature string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("payment=order-42&event=PAID"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Signature", signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s", resp.StatusCode, body)
	}
	send("forged")
	send("secret")
	send("secret") // a redelivery: acknowledged, fn does not run again
	// Output:
	// 401 invalid signature
	// fulfil order-42 succeeded 99.99 EUR
	// 200 ok
	// 200 already processed
}
