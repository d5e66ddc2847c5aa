package echelontest_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

// A merchant's test: the merchant's callback endpoint, the fake EchelonPay, a direct payin
// through paykit.Provider, the customer paying it, the callback handled, and the payment
// read back.
func Example() {
	// Listen first, so that the callback URL is known before the handler exists.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	go http.Serve(ln, mux)
	defer ln.Close()

	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()

	client, err := echelon.New(echelon.Config{
		MerchantCode:  echelontest.DefaultMerchantCode,
		Secret:        echelontest.DefaultSecret,
		BaseURL:       fake.URL,
		PaymentMethod: echelontest.MethodVirtualAccount,
	})
	if err != nil {
		panic(err)
	}
	var p paykit.Provider = client
	// The callback arrives on the server's goroutine, whenever the fake sends it: print what
	// the handler saw once WaitDelivered says it was delivered, so the output has one order.
	seen := make(chan string, 10)
	mux.Handle("/callbacks/echelon", paykit.NewWebhookHandler(p, func(_ context.Context, n *paykit.Notification) error {
		seen <- fmt.Sprint("callback: ", n.PaymentID, " ", n.Payment.Status)
		return nil
	}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pay, err := p.CreatePayment(ctx, paykit.PaymentRequest{
		ID:        "order-1001",
		Amount:    paykit.Money{Amount: 4205, Currency: "USD"},
		NotifyURL: "http://" + ln.Addr().String() + "/callbacks/echelon",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", pay.ID, pay.Status, pay.Amount)

	ref, err := fake.Pay(pay.ID) // the customer transfers the money, quoting the reference
	if err != nil {
		panic(err)
	}
	fmt.Println("paid with reference", ref)
	if err := fake.WaitDelivered(ctx, pay.ID); err != nil {
		panic(err)
	}
	fmt.Println(<-seen)
	pay, err = p.GetPayment(ctx, pay.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("now:", pay.Status, pay.ProviderStatus, pay.Captured)
	fmt.Println("callbacks sent:", len(fake.Deliveries()))
	// Output:
	// created: order-1001 pending 42.05 USD
	// paid with reference VA000001
	// callback: order-1001 succeeded
	// now: succeeded SUCCESS 42.05 USD
	// callbacks sent: 1
}
