// Package e2e drives headless Chromium through the demo shop (examples/shop) and the fakes'
// buyer pages: one purchase per provider from the product page through the provider's page
// back to the order page showing paid (turned paid by the webhook, never by the test calling
// a fake), and one purchase abandoned at the provider's page. It is a module of its own so
// that chromedp never enters paykit's go.mod.
//
// It needs Chromium (/usr/bin/chromium, or $CHROMIUM): without it the test skips, unless
// PAYKIT_REQUIRE_BROWSER=1, which .ci/run sets, makes it fail. Screenshots of every step go
// to testdata/out/ (ignored by git), where a failing test leaves them; `make screenshots`
// copies the ones the README shows to docs/screenshots/.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"image"
	_ "image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

const outDir = "testdata/out"

func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if path, err := exec.LookPath("chromium"); err == nil {
		return path
	}
	msg := "Chromium not found (apt-get install chromium, or set CHROMIUM): the browser test did not run"
	if os.Getenv("PAYKIT_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " and PAYKIT_REQUIRE_BROWSER=1")
	}
	t.Skip(msg)
	return ""
}

// startShop builds and runs examples/shop on a free loopback port and returns its URL.
func startShop(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shop")
	build := exec.Command("go", "build", "-o", bin, "./examples/shop")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the shop: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the shop's URL: %v", err)
	}
	// "paykit demo shop: open http://127.0.0.1:PORT/"
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no URL in %q", line)
	}
	go func() { // keep draining: the shop prints the fakes' URLs too
		buf := make([]byte, 4096)
		for {
			if _, err := stdout.Read(buf); err != nil {
				return
			}
		}
	}()
	return strings.TrimSuffix(strings.TrimSpace(line[i:]), "/")
}

// step is one browser action, screenshotted after it.
type step struct {
	name string
	act  chromedp.Action
}

// click clicks the element with id and waits for the element with next on the page it
// leads to ("" for none: a click that stays on the page).
func click(id, next string) chromedp.Action {
	t := chromedp.Tasks{chromedp.WaitVisible("#" + id), chromedp.Click("#"+id, chromedp.NodeVisible)}
	if next != "" {
		t = append(t, chromedp.WaitVisible("#"+next))
	}
	return t
}

// waitState waits until the order page (which reloads itself every second while the order
// awaits payment) shows state. The reloads can interrupt an evaluation, so it is repeated
// until the state shows or ctx ends.
func waitState(state string) chromedp.ActionFunc {
	return func(ctx context.Context) error {
		for {
			var got string
			err := chromedp.Evaluate(`(document.querySelector('#state')||{}).textContent||''`, &got).Do(ctx)
			if err == nil && got == state {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the order page shows %q, not %q (last error %v)", got, state, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func TestBrowserPurchases(t *testing.T) {
	exe := chromium(t)
	base := startShop(t)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1000, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()

	flows := []struct {
		name    string
		product string
		steps   []step
		want    string
	}{
		{"ecster", "tent", []step{
			{"payment-page", click("checkout", "order-link")},
			{"ecster-checkout", click("go-pay", "complete")},
			{"part-payment", click("partpayment", "")},
			{"back-to-shop", click("complete", "state")},
		}, "paid"},
		{"echelon", "course", []step{
			{"payment-page", click("checkout", "order-link")},
			{"echelon-webapp", click("go-pay", "pay")},
			{"back-to-shop", click("pay", "state")},
		}, "paid"},
		{"ecredits", "mug", []step{
			{"payment-page", click("checkout", "order-link")},
			{"qr-decodes", checkQR(base)},
			{"ecredits-wallet", click("open-wallet", "pay")},
			{"back-to-shop", click("pay", "state")},
		}, "paid"},
		{"entrecard", "banner", []step{
			{"payment-page", click("checkout", "order-link")},
			{"entrecard-buy", click("go-pay", "confirm")},
			{"back-to-shop", click("confirm", "state")},
		}, "paid"},
		{"abandoned", "tent", []step{
			{"payment-page", click("checkout", "order-link")},
			{"ecster-checkout", click("go-pay", "complete")},
			{"back-to-shop", click("abort", "state")},
		}, "cancelled"},
	}
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(allocCtx)
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
			defer cancelT()
			n := 0
			shot := func(name string) chromedp.Action {
				n++
				file := filepath.Join(outDir, fmt.Sprintf("%s-%d-%s.png", f.name, n, name))
				var buf []byte
				return chromedp.Tasks{
					chromedp.FullScreenshot(&buf, 100), // 100: PNG,
					chromedp.ActionFunc(func(context.Context) error { return os.WriteFile(file, buf, 0o644) }),
				}
			}
			run := func(name string, a chromedp.Action) {
				t.Helper()
				if err := chromedp.Run(ctx, a, shot(name)); err != nil {
					t.Fatalf("step %s: %v (screenshots in e2e/%s)", name, err, outDir)
				}
			}
			run("products", chromedp.Navigate(base+"/"))
			run("cart", click("buy-"+f.product, "checkout"))
			for _, s := range f.steps {
				run(s.name, s.act)
			}
			run("order-"+f.want, waitState(f.want))
			var url string
			if err := chromedp.Run(ctx, chromedp.Location(&url)); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(url, base+"/orders/") {
				t.Fatalf("the browser ended at %s, not the shop's order page", url)
			}
		})
	}
}

// checkQR decodes the payment page's QR image and compares it with the text the page shows
// (Action.QRCode).
func checkQR(base string) chromedp.ActionFunc {
	return func(ctx context.Context) error {
		var src, text string
		if err := chromedp.Run(ctx,
			chromedp.WaitVisible("#qr"),
			chromedp.AttributeValue("#qr", "src", &src, nil),
			chromedp.Text("#qr-text", &text),
		); err != nil {
			return err
		}
		resp, err := http.Get(base + src)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		img, _, err := image.Decode(resp.Body)
		if err != nil {
			return fmt.Errorf("the QR image: %w", err)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			return err
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil {
			return fmt.Errorf("decoding the QR image: %w", err)
		}
		if res.GetText() != text || !strings.HasPrefix(text, "eCreditsPayment:") {
			return fmt.Errorf("the QR image decodes to %q, the page shows %q", res.GetText(), text)
		}
		return nil
	}
}
