package main

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/ecster/ecstertest"
)

// startShop serves a Demo on a loopback port, as main does.
func startShop(t *testing.T) (*Demo, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	demo, err := StartDemo(base, nil)
	require.NoError(t, err)
	srv := &http.Server{Handler: demo.Shop.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		demo.Close()
	})
	return demo, base
}

// browser is an http.Client with a cookie jar that stops at redirects, so a test sees
// where each page sends the buyer.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// checkout puts product in a new cart and checks out; it returns the order id.
func checkout(t *testing.T, c *http.Client, base, product string) string {
	t.Helper()
	resp, err := c.PostForm(base+"/cart", url.Values{"product": {product}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = c.PostForm(base+"/checkout", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, string(body))
	m := regexp.MustCompile(`^/orders/([^/]+)/pay$`).FindStringSubmatch(resp.Header.Get("Location"))
	require.NotNil(t, m, resp.Header.Get("Location"))
	return m[1]
}

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

// TestShopPaysThroughControls buys once per provider and pays with the fake's control, as a
// Go test would: the order turns paid when the Router's webhook handler runs fn.
func TestShopPaysThroughControls(t *testing.T) {
	t.Parallel()
	demo, base := startShop(t)
	cases := []struct {
		product, provider string
		pay               func(id string) error
	}{
		{"tent", "ecster", func(id string) error { _, err := demo.Ecster.Pay(id); return err }},
		{"course", "echelon", nil}, // the web app creates the payin: see TestShopBuyerPages
		{"mug", "ecredits", func(id string) error { _, err := demo.ECredits.Pay(id); return err }},
		{"ebook", "ecredits", func(id string) error { _, err := demo.ECredits.Pay(id); return err }},
		{"banner", "entrecard", func(id string) error { _, err := demo.Entrecard.Pay(id); return err }},
	}
	for _, tc := range cases {
		if tc.pay == nil {
			continue
		}
		t.Run(tc.product, func(t *testing.T) {
			c := browser(t)
			id := checkout(t, c, base, tc.product)
			o, ok := demo.Shop.Order(id)
			require.True(t, ok)
			assert.Equal(t, tc.provider, o.Provider)
			assert.Equal(t, OrderAwaiting, o.State)
			status, page, _ := get(t, c, base+"/orders/"+id)
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, page, `http-equiv="refresh"`, "a pending order page reloads")

			require.NoError(t, tc.pay(id))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, demo.Shop.WaitState(ctx, id, OrderPaid))
			_, page, _ = get(t, c, base+"/orders/"+id)
			assert.Contains(t, page, `id="state">paid<`)
			assert.NotContains(t, page, `http-equiv="refresh"`)
		})
	}
}

// form finds the form of page whose submit button has id button, and returns its action and
// fields (the button's own name and value included).
func form(t *testing.T, page, button string) (string, url.Values) {
	t.Helper()
	forms := regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`).FindAllStringSubmatch(page, -1)
	for _, f := range forms {
		if !strings.Contains(f[2], `id="`+button+`"`) {
			continue
		}
		v := url.Values{}
		for _, in := range regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`).FindAllStringSubmatch(f[2], -1) {
			v.Set(in[1], unescape(in[2]))
		}
		for _, in := range regexp.MustCompile(`<input type="radio" name="([^"]*)" value="([^"]*)"[^>]* checked`).FindAllStringSubmatch(f[2], -1) {
			v.Set(in[1], unescape(in[2]))
		}
		if m := regexp.MustCompile(`<select name="([^"]*)"[^>]*><option value="([^"]*)"`).FindStringSubmatch(f[2]); m != nil {
			v.Set(m[1], unescape(m[2]))
		}
		if m := regexp.MustCompile(`id="` + button + `"[^>]*name="([^"]*)" value="([^"]*)"|name="([^"]*)" value="([^"]*)"[^>]*id="` + button + `"`).FindStringSubmatch(f[2]); m != nil {
			v.Set(m[1]+m[3], m[2]+m[4])
		}
		action := unescape(f[1])
		if m := regexp.MustCompile(`id="` + button + `"[^>]*formaction="([^"]*)"`).FindStringSubmatch(f[2]); m != nil {
			action = unescape(m[1])
		}
		return action, v
	}
	t.Fatalf("no form with button %s in\n%s", button, page)
	return "", nil
}

func unescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// link finds the href of the element with id.
func link(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]*)" id="` + id + `"|id="` + id + `" href="([^"]*)"`).FindStringSubmatch(page)
	require.NotNil(t, m, "no link %s in\n%s", id, page)
	return unescape(m[1] + m[2])
}

// TestShopBuyerPages buys once per provider through the fakes' buyer pages over plain HTTP,
// as a browser without JavaScript would: the payment page's button, the provider's page, its
// form, the redirect back to the order page, which turns paid by the webhook. One more
// purchase is aborted at Ecster's checkout and ends cancelled.
func TestShopBuyerPages(t *testing.T) {
	t.Parallel()
	demo, base := startShop(t)
	cases := []struct {
		product, button, submit, want string
	}{
		{"tent", "go-pay", "complete", OrderPaid},
		{"course", "go-pay", "pay", OrderPaid},
		{"mug", "open-wallet", "pay", OrderPaid},
		{"banner", "go-pay", "confirm", OrderPaid},
		{"tent", "go-pay", "abort", OrderCancelled},
	}
	for _, tc := range cases {
		t.Run(tc.product+"-"+tc.submit, func(t *testing.T) {
			c := browser(t)
			id := checkout(t, c, base, tc.product)
			status, page, _ := get(t, c, base+"/orders/"+id+"/pay")
			require.Equal(t, http.StatusOK, status)
			providerPage := link(t, page, tc.button)
			status, page, _ = get(t, c, providerPage)
			require.Equal(t, http.StatusOK, status, page)
			action, fields := form(t, page, tc.submit)
			target, err := url.Parse(providerPage)
			require.NoError(t, err)
			ref, err := url.Parse(action)
			require.NoError(t, err)
			resp, err := c.PostForm(target.ResolveReference(ref).String(), fields)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, string(body))
			back := resp.Header.Get("Location")
			require.True(t, strings.HasPrefix(back, base+"/orders/"+id), back)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, demo.Shop.WaitState(ctx, id, tc.want))
			_, page, _ = get(t, c, back)
			assert.Contains(t, page, `id="state">`+tc.want+`<`)
		})
	}
}

// TestShopQRCodeImage: the payment page's QR image is a PNG (its content is decoded against
// Action.QRCode by the browser test's module, which has a decoder).
func TestShopQRCodeImage(t *testing.T) {
	t.Parallel()
	_, base := startShop(t)
	c := browser(t)
	id := checkout(t, c, base, "ebook")
	status, page, _ := get(t, c, base+"/orders/"+id+"/pay")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, `<code id="qr-text">eCreditsPayment:`+id+`</code>`)
	resp, err := c.Get(base + "/orders/" + id + "/qr.png")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx())
}

// TestShopFromEnv points the shop at providers named by environment variables, as after
// sourcing paykit-sandbox's env lines: here the Ecster and eCredits fakes stand for the
// sandbox. A purchase through Ecster links to the sandbox's checkout page and turns paid by
// the webhook; a product whose provider is not configured cannot be bought.
func TestShopFromEnv(t *testing.T) {
	t.Parallel()
	ecs := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(ecs.Close)
	env := map[string]string{
		"ECSTER_API_KEY": ecstertest.DefaultAPIKey, "ECSTER_MERCHANT_KEY": ecstertest.DefaultMerchantKey,
		"ECSTER_BASE_URL": ecs.URL, "PAYKIT_SANDBOX_URL": "http://127.0.0.1:1",
	}
	getenv := func(k string) string { return env[k] }
	require.True(t, FromEnv(getenv))
	require.False(t, FromEnv(func(string) string { return "" }))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	shop, names, err := StartFromEnv(base, nil, getenv)
	require.NoError(t, err)
	assert.Equal(t, []string{"ecster"}, names)
	srv := &http.Server{Handler: shop.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	c := browser(t)
	id := checkout(t, c, base, "tent")
	status, page, _ := get(t, c, base+"/orders/"+id+"/pay")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, ecs.URL+ecstertest.PathCheckout+"?key=", "the payment page links to the sandbox's checkout")
	_, err = ecs.Pay(id)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, shop.WaitState(ctx, id, OrderPaid))

	// eCredits is not configured: its products have no route.
	resp, err := c.PostForm(base+"/cart", url.Values{"product": {"mug"}})
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = c.PostForm(base+"/checkout", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEqual(t, http.StatusSeeOther, resp.StatusCode, "no provider takes EUR here")

	_, _, err = StartFromEnv(base, nil, func(string) string { return "" })
	require.Error(t, err)
}
