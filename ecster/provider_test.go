package ecster_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/internal/safeprint"
)

func TestCreatePaymentMakesACart(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{Locale: "en-GB"})
	ctx := ctxT(t)
	req := paykit.PaymentRequest{
		Amount:      sek(12500),
		Description: "Order 1001",
		Items: []paykit.Item{
			{Reference: "A-1", Name: "Shirt", Quantity: 2, UnitAmount: sek(5000), VATRate: 2500},
			{Reference: "B-2", Name: "Book", Quantity: 1, UnitAmount: sek(2500), VATRate: 600},
		},
		Customer:  &paykit.Customer{FirstName: "Anna", LastName: "Svensson", Email: "anna@example.com", Phone: "+46701234567"},
		ReturnURL: "https://shop.example/thanks",
		NotifyURL: "https://shop.example/oen?shop=7",
		Locale:    "SV-se",
	}
	p, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, ecster.ProviderName, p.Provider)
	assert.Len(t, p.ID, 36, "a generated id")
	assert.Equal(t, p.ID, p.Reference)
	assert.Equal(t, paykit.StatusPending, p.Status)
	assert.Empty(t, p.ProviderID, "no order yet")
	require.NotNil(t, p.Action)
	assert.Equal(t, paykit.ActionClientToken, p.Action.Type)
	assert.Equal(t, sek(0), p.Captured)

	cart, ok := srv.Cart(p.ID)
	require.True(t, ok)
	assert.Equal(t, p.Action.Token, cart.Key)
	assert.True(t, cart.Open)
	assert.Equal(t, ecster.Locale{Language: "sv", Country: "SE"}, cart.Locale, "the request's locale wins over Config's")
	assert.Equal(t, sek(12500), cart.Amount)
	assert.Equal(t, "Order 1001", cart.Message)
	assert.Equal(t, "https://shop.example/oen?shop=7", cart.NotificationURL, "sent as given without NotifySecret")
	require.Len(t, cart.Rows, 2)
	assert.Equal(t, ecstertest.Row{PartNumber: "A-1", Name: "Shirt", Quantity: "2", UnitAmount: 5000, VATRate: 2500}, cart.Rows[0])
	require.NotNil(t, cart.Consumer)
	assert.Equal(t, "Anna", cart.Consumer.Name.FirstName)
	assert.Equal(t, "+46701234567", cart.Consumer.ContactInfo.Cellular.Number)

	got, err := c.GetPayment(ctx, p.ID)
	require.NoError(t, err, "a cart is no order yet, but this client made it")
	assert.Equal(t, p, got, "pending with its Action until the order exists")
}

// The wire body of a cart, as the contract fixes it.
func TestCartWireFormat(t *testing.T) {
	t.Parallel()
	var body map[string]any
	srv := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(srv.Close)
	c := clientWith(t, srv, func(r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/carts" {
			b, _ := r.GetBody()
			require.NoError(t, json.NewDecoder(b).Decode(&body))
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, ecstertest.DefaultAPIKey, r.Header.Get("x-api-key"))
			assert.Equal(t, ecstertest.DefaultMerchantKey, r.Header.Get("x-merchant-key"))
		}
	})
	_, err := c.CreatePayment(ctxT(t), paykit.PaymentRequest{ID: "order-9", Amount: sek(1998),
		Items: []paykit.Item{{Reference: "X", Name: "Pen", Quantity: 2, UnitAmount: sek(999), VATRate: 2500}}, NotifyURL: "https://shop.example/oen"})
	require.NoError(t, err)
	want := `{
		"locale": {"language": "sv", "country": "SE"},
		"countryCode": "SE",
		"parameters": {"purchaseType": {"type": "B2C"}},
		"cart": {"amount": 1998, "currency": "SEK", "rows": [{"partNumber": "X", "name": "Pen", "quantity": 2, "unitAmount": 999, "vatRate": 2500}]},
		"orderReference": "order-9",
		"notificationUrl": "https://shop.example/oen"
	}`
	got, _ := json.Marshal(body)
	assert.JSONEq(t, want, string(got))
}

// Items are required, and everything is checked before anything is sent; every error names
// the payment id.
func TestCreatePaymentValidation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	good := request("", 1000)
	for name, mutate := range map[string]func(*paykit.PaymentRequest){
		"no items":         func(r *paykit.PaymentRequest) { r.Items = nil },
		"items add up":     func(r *paykit.PaymentRequest) { r.Items[0].UnitAmount = sek(999) },
		"no item name":     func(r *paykit.PaymentRequest) { r.Items[0].Name = "" },
		"VAT over 100 %":   func(r *paykit.PaymentRequest) { r.Items[0].VATRate = 10001 },
		"negative VAT":     func(r *paykit.PaymentRequest) { r.Items[0].VATRate = -1 },
		"bad locale":       func(r *paykit.PaymentRequest) { r.Locale = "swedish" },
		"id too long":      func(r *paykit.PaymentRequest) { r.ID = strings.Repeat("a", 65) },
		"notify not a URL": func(r *paykit.PaymentRequest) { r.NotifyURL = "/oen" },
		"zero amount":      func(r *paykit.PaymentRequest) { r.Amount = sek(0); r.Items = nil },
	} {
		req := good
		req.Items = append([]paykit.Item(nil), good.Items...)
		mutate(&req)
		_, err := c.CreatePayment(ctx, req)
		require.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe)
		assert.NotEmpty(t, pe.PaymentID, name)
		if req.ID != "" {
			assert.Equal(t, req.ID, pe.PaymentID, name)
		}
		assert.Equal(t, "create payment", pe.Op, name)
		assert.Equal(t, ecster.ProviderName, pe.Provider, name)
	}
	assert.Empty(t, srv.CallLog(), "nothing was sent")
}

// An ambiguous failure of CreatePayment names the generated id; repeating with it works.
func TestCreatePaymentErrorCarriesGeneratedID(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	srv.FailNext(3, http.StatusServiceUnavailable, ecstertest.OnRoute(http.MethodPost, ecstertest.RouteCarts))
	_, err := c.CreatePayment(ctx, request("", 1000))
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.PaymentID, 36)
	assert.Contains(t, err.Error(), pe.PaymentID)

	p, err := c.CreatePayment(ctx, request(pe.PaymentID, 1000))
	require.NoError(t, err)
	assert.Equal(t, pe.PaymentID, p.ID)
}

// A cart is retried like a GET: it charges no one.
func TestCartIsRetried(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	srv.DropNext(1, ecstertest.OnRoute(http.MethodPost, ecstertest.RouteCarts))
	p, err := c.CreatePayment(ctx, request("", 1000))
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Calls(http.MethodPost, ecstertest.RouteCarts))
	cart, _ := srv.Cart(p.ID)
	assert.Equal(t, p.Action.Token, cart.Key, "the key handed out is the cart that answered")
}

// A repeated CreatePayment before the checkout replaces the cart (the old key expires, so
// the consumer cannot complete two orders); after it, it returns the order's state with no
// new cart and no Action.
func TestRepeatedCreatePayment(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	req := request(ecster.NewID(), 1000)

	first, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	second, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.NotEqual(t, first.Action.Token, second.Action.Token)
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteCarts))
	assert.Equal(t, 1, srv.Calls(http.MethodPut, ecstertest.RouteCart), "the first cart was updated")
	cart, _ := srv.Cart(req.ID)
	assert.Equal(t, second.Action.Token, cart.Key)

	mustPay(t, srv, req.ID)
	require.ErrorIs(t, payErr(srv, req.ID), ecstertest.ErrNoCart, "the old cart cannot become a second order")

	again, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Nil(t, again.Action, "an authorized payment offers no new way to pay")
	assert.Equal(t, paykit.StatusAuthorized, again.Status)
	assert.NotEmpty(t, again.ProviderID)
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteCarts), "no new cart")
	assert.Equal(t, 1, srv.Calls(http.MethodPut, ecstertest.RouteCart))

	_, err = c.Capture(ctx, req.ID, paykit.Money{})
	require.NoError(t, err)
	paid, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, paid.Status)
	assert.Nil(t, paid.Action)

	other := req
	other.Amount, other.Items = sek(2000), []paykit.Item{{Name: "x", Quantity: 1, UnitAmount: sek(2000)}}
	_, err = c.CreatePayment(ctx, other)
	require.ErrorIs(t, err, paykit.ErrAmountMismatch, "the id belongs to an order of another amount")

	// Another client (a restart) knows no cart key: a new cart, the old one stays open.
	fresh, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: srv.URL}, fastRetry)
	require.NoError(t, err)
	req2 := request(ecster.NewID(), 500)
	_, err = c.CreatePayment(ctx, req2)
	require.NoError(t, err)
	_, err = fresh.CreatePayment(ctx, req2)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Calls(http.MethodPost, ecstertest.RouteCarts))
}

// When the cart key the client remembers is gone (the update's answer was lost), a new
// cart is made.
func TestRepeatedCreateWithExpiredKeyMakesANewCart(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	req := request(ecster.NewID(), 1000)
	_, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	srv.DropNext(1, ecstertest.OnRoute(http.MethodPut, ecstertest.RouteCart)) // processed: the old key expires
	p, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	cart, _ := srv.Cart(req.ID)
	assert.Equal(t, p.Action.Token, cart.Key)
	assert.True(t, cart.Open)
}

// With NotifySecret, the notification URL is signed for the payment id, its own query kept.
func TestNotificationURLIsSigned(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{NotifySecret: "notify-secret-123"})
	req := request("order-77", 1000)
	req.NotifyURL = "https://shop.example/oen?shop=7"
	_, err := c.CreatePayment(ctxT(t), req)
	require.NoError(t, err)
	cart, _ := srv.Cart("order-77")
	u, err := url.Parse(cart.NotificationURL)
	require.NoError(t, err)
	assert.Equal(t, "7", u.Query().Get("shop"))
	assert.Equal(t, "order-77", u.Query().Get("paykit_id"))
	assert.NotEmpty(t, u.Query().Get("paykit_sig"))
	assert.NotContains(t, cart.NotificationURL, "notify-secret-123")
}

func TestCapabilitiesAndNewID(t *testing.T) {
	t.Parallel()
	_, c := setup(t, ecstertest.Config{}, ecster.Config{})
	assert.Equal(t, paykit.Capabilities{Capture: true, PartialCapture: true, Refund: true, PartialRefund: true, Cancel: true, Webhooks: true}, c.Capabilities())
	assert.Equal(t, "ecster", c.Name())
	seen := map[string]bool{}
	for range 100 {
		id := ecster.NewID()
		assert.LessOrEqual(t, len(id), ecster.MaxOrderReference)
		assert.False(t, seen[id])
		seen[id] = true
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]ecster.Config{
		"no api key":             {MerchantKey: "m"},
		"no merchant key":        {APIKey: "a"},
		"http base":              {APIKey: "a", MerchantKey: "m", BaseURL: "http://ecster.example"},
		"bad locale":             {APIKey: "a", MerchantKey: "m", Locale: "svenska"},
		"header without value":   {APIKey: "a", MerchantKey: "m", NotificationHeader: "X-A"},
		"value without header":   {APIKey: "a", MerchantKey: "m", NotificationHeaderValue: "v"},
		"header name with space": {APIKey: "a", MerchantKey: "m", NotificationHeader: "X A", NotificationHeaderValue: "v"},
	} {
		_, err := ecster.New(cfg)
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
	}
	c, err := ecster.New(ecster.Config{APIKey: "a", MerchantKey: "m"})
	require.NoError(t, err)
	assert.Contains(t, c.String(), ecster.ProductionURL)
}

// Config and Client print without their secrets, every way.
func TestSecretsDoNotPrint(t *testing.T) {
	t.Parallel()
	cfg := ecster.Config{APIKey: "api-key-SECRET-1", MerchantKey: "merchant-SECRET-2", NotificationHeader: "X-Shop-Auth",
		NotificationHeaderValue: "header-SECRET-3", NotifySecret: "notify-SECRET-4", BaseURL: ecster.SandboxURL}
	c, err := ecster.New(cfg)
	require.NoError(t, err)
	forms := append(safeprint.Forms(cfg), safeprint.Forms(c)...)
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	forms = append(forms, string(b), fmt.Sprintf("%v %+v %#v", c, c, c))
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("client", "c", c, "cfg", cfg)
	forms = append(forms, buf.String())
	for _, f := range forms {
		assert.NotContains(t, f, "SECRET", f)
	}
	assert.Contains(t, forms[0], "X-Shop-Auth", "what is not secret still prints")
}
