package otelpaykit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requireOperation checks one operation span: its attributes, and that every HTTP attempt
// under it follows the HTTP client conventions without the payment id in its template.
func requireOperation(t *testing.T, spans []sdktrace.ReadOnlySpan, s sdktrace.ReadOnlySpan, provider, op, id, outcome string) {
	t.Helper()
	a := attrs(s.Attributes())
	assert.Equal(t, provider, a["paykit.provider"], s.Name())
	assert.Equal(t, op, a["paykit.operation"], s.Name())
	assert.Equal(t, id, a["paykit.payment_id"], s.Name())
	assert.Equal(t, outcome, a["paykit.outcome"], s.Name())
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind())
	for _, c := range children(spans, s) {
		if c.SpanKind() != trace.SpanKindClient {
			continue
		}
		ca := attrs(c.Attributes())
		assert.NotEmpty(t, ca["url.template"], c.Name())
		assert.NotContains(t, ca["url.template"], id, c.Name())
		assert.Equal(t, ca["http.request.method"]+" "+ca["url.template"], c.Name())
		assert.Equal(t, "127.0.0.1", ca["server.address"], c.Name())
		assert.NotEmpty(t, ca["server.port"], c.Name())
		assert.NotEmpty(t, ca["http.response.status_code"], c.Name())
	}
}

func TestEcsterCheckout(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r, w := newRec(t), new(wire)
	const header, value, notifySecret = "X-Shop-Auth", "agreed-with-ecster-0123", "ecster-notify-secret-0123"
	fake := ecstertest.NewServer(ecstertest.Config{NotificationHeader: header, NotificationHeaderValue: value})
	defer fake.Close()
	client, err := ecster.New(ecster.Config{
		APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL,
		ShopTermsURL: "https://shop.example/terms", NotificationHeader: header, NotificationHeaderValue: value,
		NotifySecret: notifySecret,
	}, paykit.WithHooks(r.hooks), paykit.WithHTTPClient(w.client()))
	require.NoError(t, err)
	mux, base := shop(t, w)
	ran := make(chan struct{}, 8)
	mux.Handle("/oen", paykit.NewWebhookHandler(client, func(context.Context, *paykit.Notification) error {
		ran <- struct{}{}
		return nil
	}, paykit.WithWebhookHooks(r.hooks)))

	sek := func(a int64) paykit.Money { return paykit.Money{Amount: a, Currency: "SEK"} }
	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{Amount: sek(10000), NotifyURL: base + "/oen",
		Items: []paykit.Item{{Name: "Tent", Quantity: 1, UnitAmount: sek(10000), VATRate: 2500}}})
	require.NoError(t, err)
	_, err = fake.Pay(pay.ID)
	require.NoError(t, err)
	<-ran
	_, err = client.Capture(ctx, pay.ID, sek(6000), paykit.IdempotencyKey("ship-1"))
	require.NoError(t, err)
	_, err = client.Refund(ctx, pay.ID, sek(1000))
	require.NoError(t, err)
	_, err = client.Cancel(ctx, pay.ID)
	require.NoError(t, err)
	require.NoError(t, fake.WaitDelivered(ctx, pay.ID))

	spans := r.ended()
	for _, c := range []struct{ name, op string }{
		{"ecster create payment", paykit.OpCreatePayment}, {"ecster capture", paykit.OpCapture},
		{"ecster refund", paykit.OpRefund}, {"ecster cancel", paykit.OpCancel},
	} {
		got := named(spans, c.name)
		require.Len(t, got, 1, c.name)
		requireOperation(t, spans, got[0], "ecster", c.op, pay.ID, "ok")
		assert.False(t, got[0].Parent().IsValid(), "%s is a root span: the test's ctx has none", c.name)
	}
	assert.Contains(t, childNames(spans, named(spans, "ecster create payment")[0]), "POST /v1/carts")
	assert.Contains(t, childNames(spans, named(spans, "ecster capture")[0]), "POST /v1/orders/{id}/transactions")

	// Every delivery: a root span with the provider's parse and fetch under it.
	deliveries := named(spans, "ecster handle notification")
	require.NotEmpty(t, deliveries)
	for _, d := range deliveries {
		a := attrs(d.Attributes())
		assert.Contains(t, []string{"processed", "duplicate"}, a["paykit.webhook.verdict"])
		assert.Equal(t, "200", a["http.response.status_code"])
		assert.Equal(t, pay.ID, a["paykit.payment_id"])
		names := childNames(spans, d)
		assert.Contains(t, names, "ecster parse notification")
		assert.Contains(t, names, "ecster get payment")
		for _, g := range children(spans, d) {
			if g.Name() == "ecster get payment" {
				requireOperation(t, spans, g, "ecster", paykit.OpGetPayment, pay.ID, "ok")
				assert.Contains(t, childNames(spans, g), "GET /v1/orders") // found by its reference
			}
		}
	}

	rm := r.metrics(t)
	for _, op := range []string{paykit.OpCreatePayment, paykit.OpCapture, paykit.OpRefund, paykit.OpCancel} {
		assert.EqualValues(t, 1, histCount(rm, "paykit.operation.duration", map[string]string{
			"paykit.provider": "ecster", "paykit.operation": op, "paykit.outcome": "ok"}), op)
	}
	assert.EqualValues(t, len(deliveries), counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.provider": "ecster"}))
	assert.Positive(t, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.webhook.verdict": "processed"}))
	processed := counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.webhook.verdict": "processed"})
	duplicate := counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.webhook.verdict": "duplicate"})
	assert.EqualValues(t, len(deliveries), processed+duplicate)
	assert.EqualValues(t, 2*processed+duplicate, histCount(rm, "paykit.store.duration", map[string]string{"paykit.store": "dedupe"}),
		"a claim and a finish per processed delivery, a claim per duplicate")
	attempts := 0
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindClient {
			attempts++
		}
	}
	assert.EqualValues(t, attempts, histCount(rm, "http.client.request.duration", map[string]string{"paykit.provider": "ecster"}))
	requireClean(t, r, w, ecstertest.DefaultAPIKey, ecstertest.DefaultMerchantKey, notifySecret, value)
}

func TestECreditsCheckout(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r, w := newRec(t), new(wire)
	mux, base := shop(t, w)
	fake := ecreditstest.NewServer(ecreditstest.Config{NotifyURL: base + "/webhooks/ecredits"})
	defer fake.Close()
	client, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: fake.URL}, paykit.WithHooks(r.hooks), paykit.WithHTTPClient(w.client()))
	require.NoError(t, err)
	ran := make(chan struct{}, 8)
	mux.Handle("/webhooks/ecredits", paykit.NewWebhookHandler(client, func(context.Context, *paykit.Notification) error {
		ran <- struct{}{}
		return nil
	}, paykit.WithWebhookHooks(r.hooks)))

	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 9999, Currency: "EUR"}})
	require.NoError(t, err)
	_, err = fake.Pay(pay.ID)
	require.NoError(t, err)
	<-ran
	require.NoError(t, fake.WaitDelivered(ctx, pay.ID))
	code, err := fake.Redeliver(ctx, pay.ID)
	require.NoError(t, err)
	require.Equal(t, 200, code)
	_, err = client.Capture(ctx, pay.ID, paykit.Money{})
	require.ErrorIs(t, err, paykit.ErrUnsupported)

	spans := r.ended()
	creates := named(spans, "ecredits create payment")
	require.Len(t, creates, 1)
	requireOperation(t, spans, creates[0], "ecredits", paykit.OpCreatePayment, pay.ID, "ok")
	// The first call fetched the token: its event, and the authentication request, are under
	// the create.
	ev, ok := hasEvent(creates[0], "paykit.token.fetch")
	require.True(t, ok)
	assert.Equal(t, "ok", ev["paykit.outcome"])
	assert.Equal(t, []string{"POST /api/authentication", "POST /api/v1/requests"}, childNames(spans, creates[0]))

	captures := named(spans, "ecredits capture")
	require.Len(t, captures, 1)
	requireOperation(t, spans, captures[0], "ecredits", paykit.OpCapture, pay.ID, "unsupported")
	assert.Equal(t, "unsupported", attrs(captures[0].Attributes())["error.type"])

	rm := r.metrics(t)
	assert.EqualValues(t, 1, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.provider": "ecredits", "paykit.webhook.verdict": "processed"}))
	assert.EqualValues(t, 1, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.provider": "ecredits", "paykit.webhook.verdict": "duplicate"}))
	assert.EqualValues(t, 1, counter(rm, "paykit.token.fetches", map[string]string{"paykit.provider": "ecredits", "paykit.outcome": "ok"}))
	assert.EqualValues(t, 1, histCount(rm, "paykit.operation.duration", map[string]string{
		"paykit.provider": "ecredits", "paykit.operation": paykit.OpCapture, "paykit.outcome": "unsupported"}))
	requireClean(t, r, w, ecreditstest.DefaultSecret, ecreditstest.DefaultWebhookSecret)
}

func TestEchelonCheckout(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r, w := newRec(t), new(wire)
	const notifySecret = "echelon-notify-secret-0123"
	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()
	client, err := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret,
		BaseURL: fake.URL, PaymentMethod: "VAPAY", NotifySecret: notifySecret},
		paykit.WithHooks(r.hooks), paykit.WithHTTPClient(w.client()), paykit.WithLimiter(paykit.NoLimit))
	require.NoError(t, err)
	mux, base := shop(t, w)
	ran := make(chan struct{}, 8)
	mux.Handle("/callbacks/echelon", paykit.NewWebhookHandler(client, func(context.Context, *paykit.Notification) error {
		ran <- struct{}{}
		return nil
	}, paykit.WithWebhookHooks(r.hooks)))

	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 500000, Currency: "INR"},
		NotifyURL: base + "/callbacks/echelon"})
	require.NoError(t, err)
	_, err = fake.Pay(pay.ID)
	require.NoError(t, err)
	<-ran
	require.NoError(t, fake.WaitDelivered(ctx, pay.ID))
	got, err := client.GetPayment(ctx, pay.ID)
	require.NoError(t, err)
	require.Equal(t, paykit.StatusSucceeded, got.Status)

	spans := r.ended()
	creates := named(spans, "echelon create payment")
	require.Len(t, creates, 1)
	requireOperation(t, spans, creates[0], "echelon", paykit.OpCreatePayment, pay.ID, "ok")
	_, ok := hasEvent(creates[0], "paykit.token.fetch")
	assert.True(t, ok)
	assert.Contains(t, childNames(spans, creates[0]), "POST /payins/{id}")
	gets := named(spans, "echelon get payment")
	require.NotEmpty(t, gets)
	for _, g := range gets {
		requireOperation(t, spans, g, "echelon", paykit.OpGetPayment, pay.ID, "ok")
		assert.Contains(t, childNames(spans, g), "GET /payins/{id}")
	}
	rm := r.metrics(t)
	assert.Positive(t, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.provider": "echelon", "paykit.webhook.verdict": "processed"}))
	requireClean(t, r, w, echelontest.DefaultSecret, notifySecret)
}

func TestEntrecardCheckout(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r, w := newRec(t), new(wire)
	const buyer = "alice"
	fake := entrecardtest.NewServer(entrecardtest.Config{Buyers: map[string]int64{buyer: 1000}})
	defer fake.Close()
	client, err := entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret,
		BaseURL: fake.URL}, paykit.WithHooks(r.hooks))
	require.NoError(t, err)
	mux, base := shop(t, w)
	ran := make(chan struct{}, 8)
	mux.Handle("/notify", paykit.NewWebhookHandler(client, func(context.Context, *paykit.Notification) error {
		ran <- struct{}{}
		return nil
	}, paykit.WithWebhookHooks(r.hooks)))

	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 80, Currency: "EC"},
		Description: "Banner ad", NotifyURL: base + "/notify", ReturnURL: "https://shop.example/thanks", CancelURL: "https://shop.example/cart"})
	require.NoError(t, err)
	require.NoError(t, fake.Confirm(ctx, pay.ID, buyer))
	<-ran
	require.NoError(t, fake.WaitDelivered(ctx, pay.ID))

	spans := r.ended()
	creates := named(spans, "entrecard create payment")
	require.Len(t, creates, 1)
	requireOperation(t, spans, creates[0], "entrecard", paykit.OpCreatePayment, pay.ID, "ok")
	assert.Empty(t, children(spans, creates[0]), "an Entrecard create sends nothing")
	deliveries := named(spans, "entrecard handle notification")
	require.NotEmpty(t, deliveries)
	processed := 0
	for _, d := range deliveries {
		if attrs(d.Attributes())["paykit.webhook.verdict"] == "processed" {
			processed++
			assert.Equal(t, []string{"entrecard parse notification", "entrecard get payment"}, childNames(spans, d))
		}
	}
	assert.Equal(t, 1, processed)
	rm := r.metrics(t)
	assert.EqualValues(t, 1, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.provider": "entrecard", "paykit.webhook.verdict": "processed"}))
	requireClean(t, r, w, entrecardtest.DefaultSecret)
}

// TestWebhookVerdicts: a forged notification and a malformed one are counted by verdict and
// their spans say why.
func TestWebhookVerdicts(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r, w := newRec(t), new(wire)
	fake := ecreditstest.NewServer(ecreditstest.Config{})
	defer fake.Close()
	client, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: fake.URL}, paykit.WithHooks(r.hooks))
	require.NoError(t, err)
	mux, base := shop(t, w)
	fnFailed := make(chan struct{}, 1)
	mux.Handle("/wh", paykit.NewWebhookHandler(client, func(context.Context, *paykit.Notification) error {
		fnFailed <- struct{}{}
		return context.Canceled
	}, paykit.WithWebhookHooks(r.hooks)))
	post := func(body string, header map[string]string) int {
		req, err := newPost(ctx, base+"/wh", body, header)
		require.NoError(t, err)
		resp, err := w.client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 401, post(`{"requestId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}`, map[string]string{"X-Signature": "forged-signature-value"}))
	assert.Equal(t, 405, getStatus(t, w, base+"/wh"))

	rm := r.metrics(t)
	assert.EqualValues(t, 1, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.webhook.verdict": "bad_signature"}))
	assert.EqualValues(t, 1, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.webhook.verdict": "method_not_allowed"}))
	spans := named(r.ended(), "ecredits handle notification")
	require.Len(t, spans, 2)
	a := attrs(spans[0].Attributes())
	assert.Equal(t, "bad_signature", a["paykit.webhook.verdict"])
	assert.Equal(t, "invalid_signature", a["paykit.outcome"])
	assert.True(t, strings.HasPrefix(a["http.response.status_code"], "401"))
	requireClean(t, r, w, ecreditstest.DefaultSecret, ecreditstest.DefaultWebhookSecret)
}
