// Command shop is a small web shop that takes payments through a paykit.Router over the four
// providers' in-process fakes, so that a person can click through a purchase with each
// provider in a browser:
//
//	go run ./examples/shop                 # prints the URL to open, http://127.0.0.1:8080
//	go run ./examples/shop -addr 127.0.0.1:0
//
// Products are priced in SEK (Ecster), INR (EchelonPay), EUR and ECS (eCredits) and EC
// (Entrecard): the cart's currency picks the provider through the Router's rules. Checkout
// creates the payment and shows its Action: the eCredits QR code (a PNG of Action.QRCode)
// with a link to the fake's wallet page, Ecster's cart key with a button to the fake's
// checkout page, EchelonPay's web-app token with a button to the fake's web app, and
// Entrecard's buy link. The providers' notifications reach the Router's webhook handler at
// /webhooks/{provider}, and the order page turns "paid" when the handler's function runs.
//
// The listen address comes from -addr, else SHOP_ADDR, else 127.0.0.1:8080. The shop only
// listens on the address given; the fakes listen on loopback ports of their own.
//
// Environment variables point the shop at real providers (or at a running
// cmd/paykit-sandbox, whose env lines they are) instead of the in-process fakes: a provider
// is used when its first variable is set, its *_BASE_URL empty meaning production.
//
//	ECREDITS_CLIENT_ID ECREDITS_API_KEY ECREDITS_WEBHOOK_SECRET ECREDITS_BASE_URL
//	ECSTER_API_KEY ECSTER_MERCHANT_KEY ECSTER_BASE_URL
//	ECHELON_MERCHANT_CODE ECHELON_SECRET ECHELON_BASE_URL
//	ENTRECARD_SELLER_ID ENTRECARD_SECRET ENTRECARD_BASE_URL
//	PAYKIT_SANDBOX_URL  (set by the sandbox: link the payment page to its buyer pages)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	def := os.Getenv("SHOP_ADDR")
	if def == "" {
		def = "127.0.0.1:8080"
	}
	addr := flag.String("addr", def, "listen address (env SHOP_ADDR)")
	flag.Parse()

	// Listen first: the shop's URL goes into the fakes' configs and the payments' URLs.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
	base := "http://" + ln.Addr().String()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var shop *Shop
	if FromEnv(os.Getenv) {
		// The environment names providers (real ones, or a paykit-sandbox's env lines).
		s, names, err := StartFromEnv(base, log, os.Getenv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shop:", err)
			os.Exit(1)
		}
		shop = s
		fmt.Printf("paykit demo shop: open %s/ (providers from the environment: %s)\n", base, strings.Join(names, ", "))
	} else {
		demo, err := StartDemo(base, log)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shop:", err)
			os.Exit(1)
		}
		defer demo.Close()
		shop = demo.Shop
		fmt.Printf("paykit demo shop: open %s/\n", base)
		for _, f := range demo.Fakes() {
			fmt.Printf("  %-9s fake at %s\n", f.Name, f.URL)
		}
	}

	srv := &http.Server{Handler: shop.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}
