// Command paykit-sandbox serves paykit's four provider fakes (eCredits, Ecster, EchelonPay,
// Entrecard) on loopback ports, with the buyers' pages each provider hosts, a dashboard of
// every payment, and a JSON control API, so that a merchant's backend in any language, a
// front-end or an end-to-end test can run against them:
//
//	go run ./cmd/paykit-sandbox                 # serve; prints the providers' URLs and credentials
//	go run ./cmd/paykit-sandbox -forward-to http://127.0.0.1:3000/webhooks
//	go run ./cmd/paykit-sandbox pay ecster order-1   # a control, through the running sandbox's API
//
// # Serving
//
// Flags: -addr (the dashboard and control API, default 127.0.0.1:8090), -ecredits-port,
// -ecster-port, -echelon-port, -entrecard-port (0: a free port), the credentials the fakes
// accept (-ecredits-client-id, -ecredits-secret, -ecredits-webhook-secret, -ecster-api-key,
// -ecster-merchant-key, -echelon-merchant-code, -echelon-secret, -entrecard-seller-id,
// -entrecard-secret; the fakes' defaults otherwise), -ecredits-webhook (eCredits takes no
// notify URL per payment: its portal's webhook URL) and -forward-to (every notification of
// every provider goes to this one URL instead of the URL its payment was created with, the
// original query kept). It prints environment lines a backend can source:
//
//	ECREDITS_BASE_URL=http://127.0.0.1:41001
//	ECREDITS_CLIENT_ID=…
//	…
//	PAYKIT_SANDBOX_URL=http://127.0.0.1:8090
//
// The buyers' pages are on each provider's URL: eCredits /sandbox/wallet?code={id} (the QR
// code as a PNG at /sandbox/qr.png?code={id}, and a "Pay as the wallet app" button),
// Ecster /sandbox/checkout?key={cart key}&return={url}, EchelonPay
// /sandbox/webapp?token={token}&callback={url}&return={url}, and Entrecard's buy link itself
// (/buy, HTML to a browser).
//
// # Control API
//
//	GET  /api/payments                   every payment at every fake, its state and notifications
//	POST /api/{provider}/{action}/{id}   200 {"ok":true,"result":"…"}; 404 unknown payment;
//	                                     409 the state refuses it; 400 unknown action
//
// Actions: ecredits pay, expire; ecster pay, decline, abort, expire, block; echelon pay,
// process, fail, expire, cancel; entrecard pay, cancel, leave; every provider redeliver
// (the payment's latest notification once more). The action "fault" takes a fault's name in
// place of the id and puts it on the provider's fake (POST /api/ecster/fault/drop-next):
// fail-next, unavailable-next, rate-limit-next, drop-next, malformed-next, slow, fast,
// lose-notifications, keep-notifications (see Sandbox.Fault). An end-to-end example in shell:
//
//	go build -o /tmp/paykit-sandbox ./cmd/paykit-sandbox
//	/tmp/paykit-sandbox > sandbox.env &            # the env lines, then it serves
//	until grep -q PAYKIT_SANDBOX_URL sandbox.env 2>/dev/null; do sleep 0.2; done
//	set -a; . ./sandbox.env; set +a
//	# … the backend, started with these variables, creates payment order-1 at $ECSTER_BASE_URL …
//	curl -s -X POST "$PAYKIT_SANDBOX_URL/api/ecster/pay/order-1"   # {"ok":true,"result":"<order id>"}
//	curl -s "$PAYKIT_SANDBOX_URL/api/payments"                     # READY, its OEN and the answers
//
// # CLI
//
// paykit-sandbox ACTION [-sandbox URL] PROVIDER ID calls the control API of a running sandbox (-sandbox URL,
// else $PAYKIT_SANDBOX_URL, else http://127.0.0.1:8090) and prints its answer: pay, expire,
// decline, abort, block, process, fail, cancel, leave, redeliver, fault (PROVIDER FAULT);
// paykit-sandbox payments prints GET /api/payments.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

func main() {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") && os.Args[1] != "serve" {
		os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	os.Exit(serve(args, os.Stdout, os.Stderr))
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("paykit-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "dashboard and control API address")
	ports := map[string]*int{}
	for _, p := range Providers {
		ports[p] = fs.Int(p+"-port", 0, "loopback port of the "+p+" fake (0: any free port)")
	}
	var c Creds
	fs.StringVar(&c.ECreditsClientID, "ecredits-client-id", ecreditstest.DefaultClientID, "")
	fs.StringVar(&c.ECreditsSecret, "ecredits-secret", ecreditstest.DefaultSecret, "")
	fs.StringVar(&c.ECreditsWebhookSecret, "ecredits-webhook-secret", ecreditstest.DefaultWebhookSecret, "")
	fs.StringVar(&c.EcsterAPIKey, "ecster-api-key", ecstertest.DefaultAPIKey, "")
	fs.StringVar(&c.EcsterMerchantKey, "ecster-merchant-key", ecstertest.DefaultMerchantKey, "")
	fs.StringVar(&c.EchelonMerchantCode, "echelon-merchant-code", echelontest.DefaultMerchantCode, "")
	fs.StringVar(&c.EchelonSecret, "echelon-secret", echelontest.DefaultSecret, "")
	fs.StringVar(&c.EntrecardSellerID, "entrecard-seller-id", entrecardtest.DefaultSellerID, "")
	fs.StringVar(&c.EntrecardSecret, "entrecard-secret", entrecardtest.DefaultSecret, "")
	ecrWebhook := fs.String("ecredits-webhook", "", "eCredits' webhook URL (its portal setting)")
	forward := fs.String("forward-to", "", "send every notification to this URL")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, u := range []string{*forward, *ecrWebhook} {
		if p, err := url.Parse(u); u != "" && (err != nil || p.Host == "") {
			fmt.Fprintf(stderr, "paykit-sandbox: %q is not an absolute URL\n", u)
			return 2
		}
	}
	sb := NewSandbox(c, *forward, *ecrWebhook)
	defer sb.Close()
	var servers []*http.Server
	for _, p := range Providers {
		if *ports[p] == 0 {
			continue
		}
		// The fakes listen on ports of their own choosing; a port asked for is a proxy to it.
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *ports[p]))
		if err != nil {
			fmt.Fprintln(stderr, "paykit-sandbox:", err)
			return 1
		}
		target, _ := url.Parse(sb.URLs[p])
		srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		servers = append(servers, srv)
		sb.URLs[p] = "http://" + ln.Addr().String()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "paykit-sandbox:", err)
		return 1
	}
	dash := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	servers = append(servers, dash)
	env := [][2]string{
		{"ECREDITS_BASE_URL", sb.URLs["ecredits"]}, {"ECREDITS_CLIENT_ID", c.ECreditsClientID},
		{"ECREDITS_API_KEY", c.ECreditsSecret}, {"ECREDITS_WEBHOOK_SECRET", c.ECreditsWebhookSecret},
		{"ECSTER_BASE_URL", sb.URLs["ecster"]}, {"ECSTER_API_KEY", c.EcsterAPIKey}, {"ECSTER_MERCHANT_KEY", c.EcsterMerchantKey},
		{"ECHELON_BASE_URL", sb.URLs["echelon"]}, {"ECHELON_MERCHANT_CODE", c.EchelonMerchantCode}, {"ECHELON_SECRET", c.EchelonSecret},
		{"ENTRECARD_BASE_URL", sb.URLs["entrecard"]}, {"ENTRECARD_SELLER_ID", c.EntrecardSellerID}, {"ENTRECARD_SECRET", c.EntrecardSecret},
		{"PAYKIT_SANDBOX_URL", "http://" + ln.Addr().String()},
	}
	for _, kv := range env {
		fmt.Fprintf(stdout, "%s=%s\n", kv[0], kv[1])
	}
	fmt.Fprintf(stderr, "paykit-sandbox: dashboard at http://%s/ (Ctrl-C stops)\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { _ = dash.Serve(ln) }()
	<-ctx.Done()
	for _, s := range servers {
		_ = s.Close()
	}
	return 0
}

// cli runs one control against a running sandbox.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("paykit-sandbox "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("PAYKIT_SANDBOX_URL")
	if def == "" {
		def = "http://127.0.0.1:8090"
	}
	base := fs.String("sandbox", def, "the running sandbox's URL")
	action := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var resp *http.Response
	var err error
	switch {
	case action == "payments" && fs.NArg() == 0:
		resp, err = client.Get(strings.TrimSuffix(*base, "/") + "/api/payments")
	case fs.NArg() == 2:
		u := strings.TrimSuffix(*base, "/") + "/api/" + url.PathEscape(fs.Arg(0)) + "/" + url.PathEscape(action) + "/" + url.PathEscape(fs.Arg(1))
		resp, err = client.Post(u, "application/json", nil)
	default:
		fmt.Fprintln(stderr, "usage: paykit-sandbox ACTION [-sandbox URL] PROVIDER PAYMENT-ID | paykit-sandbox payments [-sandbox URL]")
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "paykit-sandbox:", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(stdout, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
