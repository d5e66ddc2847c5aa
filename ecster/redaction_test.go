package ecster_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/internal/logbuf"
)

// A debug log of a whole flow, failures and forged OENs included, holds no API key,
// merchant key, OEN header value, NotifySecret or URL signature; neither do the errors.
func TestDebugLogOfAWholeFlowHoldsNoSecret(t *testing.T) {
	t.Parallel()
	const (
		apiKey   = "APIKEY-d41d8cd98f00b204"
		merchant = "MERCHANT-e9800998ecf8427e"
		hdrValue = "HEADER-VALUE-8f14e45fceea167a"
		notify   = "NOTIFY-SECRET-c9f0f895fb98ab91"
	)
	var logs logbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	t.Cleanup(shop.Close)
	srv := ecstertest.NewServer(ecstertest.Config{APIKey: apiKey, MerchantKey: merchant, NotificationHeader: hookHeader, NotificationHeaderValue: hdrValue})
	t.Cleanup(srv.Close)
	c, err := ecster.New(ecster.Config{APIKey: apiKey, MerchantKey: merchant, BaseURL: srv.URL, NotificationHeader: hookHeader,
		NotificationHeaderValue: hdrValue, NotifySecret: notify}, fastRetry, paykit.WithLogger(logger))
	require.NoError(t, err)
	mux.Handle("/oen", paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { return nil },
		paykit.WithWebhookLogger(logger)))
	ctx := ctxT(t)
	var errs []error
	keep := func(_ any, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	req := request(ecster.NewID(), 1000)
	req.NotifyURL = shop.URL + "/oen?shop=1"
	p, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	mustPay(t, srv, p.ID)
	require.NoError(t, srv.WaitDelivered(ctx, p.ID))

	srv.DropNext(1, postTx)
	keep(c.Capture(ctx, p.ID, sek(300)))
	srv.DropNext(1, postTx)
	srv.FailNext(10, http.StatusInternalServerError, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrder))
	keep(c.Capture(ctx, p.ID, sek(300))) // outcome unknown
	srv.ClearFaults()
	keep(c.Refund(ctx, p.ID, sek(100)))
	keep(c.Capture(ctx, p.ID, sek(5000)))
	keep(c.Cancel(ctx, p.ID))
	keep(c.Refund(ctx, p.ID, paykit.Money{}))
	require.NoError(t, srv.WaitDelivered(ctx, p.ID))

	// Forged and broken OENs, logged by the webhook handler.
	cart, _ := srv.Cart(p.ID)
	o, _ := srv.Order(p.ID)
	n := ecstertest.OEN{OrderID: o.ID, OrderReference: p.ID, Status: "READY", Time: "2024-05-01T10:00:00Z", Event: "CREATED"}
	u, _ := url.Parse(cart.NotificationURL)
	for _, h := range []string{hdrValue + "x", "", strings.ToLower(hdrValue)} {
		resp, err := http.Post(shop.URL+u.RequestURI(), "application/json", bytes.NewReader(n.Body()))
		if h != "" {
			r, _ := http.NewRequest(http.MethodPost, shop.URL+u.RequestURI(), bytes.NewReader(n.Body()))
			r.Header.Set(hookHeader, h)
			resp, err = http.DefaultClient.Do(r)
		}
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	r := ecstertest.NewOENRequest("/oen?paykit_id="+p.ID+"&paykit_sig=forged", n, hookHeader, hdrValue)
	_, err = c.ParseNotification(r)
	errs = append(errs, err)

	// A client with a wrong key, whose 401 is logged.
	bad, err := ecster.New(ecster.Config{APIKey: apiKey + "-old", MerchantKey: merchant, BaseURL: srv.URL}, paykit.WithLogger(logger))
	require.NoError(t, err)
	keep(bad.GetPayment(ctx, p.ID))

	sig := u.Query().Get("paykit_sig")
	require.NotEmpty(t, sig)
	out := logs.String()
	require.Contains(t, out, "paykit http attempt", "the flow was logged at debug level")
	require.Contains(t, out, "webhook: refused")
	require.GreaterOrEqual(t, len(errs), 3)
	for _, e := range errs {
		out += "\n" + e.Error()
	}
	for _, secret := range []string{apiKey, merchant, hdrValue, strings.ToLower(hdrValue), notify, sig} {
		assert.NotContains(t, out, secret)
	}
}
