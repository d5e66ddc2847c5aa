package ecster_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

func TestFindAndGetOrders(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	ordered(t, ctx, srv, c, 500, ecster.OrderPendingDecision)

	orders, err := c.FindOrders(ctx, ecster.OrderQuery{OrderReference: id})
	require.NoError(t, err)
	require.Len(t, orders, 1)
	o := orders[0]
	assert.Equal(t, id, o.OrderReference)
	assert.Equal(t, ecster.Amount(1000), o.Amount)
	assert.Equal(t, "SEK", o.Currency)
	assert.Equal(t, ecstertest.DefaultMerchantID, o.MerchantID)
	assert.Equal(t, ecster.MethodInvoice, o.Properties.Method)
	require.NotNil(t, o.Consumer)
	assert.Equal(t, ecstertest.DefaultNationalID, o.Consumer.NationalID)
	require.Len(t, o.Transactions, 1)
	assert.Equal(t, ecster.TransactionInitial, o.Transactions[0].Type)
	assert.WithinDuration(t, time.Now(), o.Created, time.Minute)

	got, err := c.GetOrder(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o.ID, got.ID)
	assert.Equal(t, ecster.OrderReady, got.Status)

	all, err := c.FindOrders(ctx, ecster.OrderQuery{})
	require.NoError(t, err)
	assert.Len(t, all, 2)
	for q, want := range map[*ecster.OrderQuery]int{
		{Status: ecster.OrderPendingDecision}:                             1,
		{PaymentMethod: ecster.MethodInvoice}:                             2,
		{PaymentMethod: ecster.MethodSwish}:                               0,
		{NationalID: "se530516-9756"}:                                     2,
		{MerchantID: ecstertest.DefaultMerchantID}:                        2,
		{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}: 2,
		{From: time.Now().Add(time.Hour)}:                                 0,
	} {
		got, err := c.FindOrders(ctx, *q)
		require.NoError(t, err, "%+v", *q)
		assert.Len(t, got, want, "%+v", *q)
	}

	for name, q := range map[string]ecster.OrderQuery{
		"bad national id": {NationalID: "SE5305169756"},
		"long reference":  {OrderReference: string(make([]byte, 65))},
		"to before from":  {From: time.Now(), To: time.Now().Add(-time.Hour)},
	} {
		_, err := c.FindOrders(ctx, q)
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
	}
	_, err = c.GetOrder(ctx, "")
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
	_, err = c.GetOrder(ctx, "NoSuchOrder")
	assert.ErrorIs(t, err, paykit.ErrNotFound)
}

// The query of a search, as sent: every field of FACTS 1.4, timestamps with their offset.
func TestFindOrdersQuery(t *testing.T) {
	t.Parallel()
	c, mt := mockClient(t)
	var got url.Values
	mt.RegisterResponder("GET", mockBase+"/v1/orders", func(r *http.Request) (*http.Response, error) {
		got = r.URL.Query()
		assert.Nil(t, r.Body, "GETs carry no body")
		return httpmock.NewStringResponse(200, `[]`), nil
	})
	from := time.Date(2023, 4, 1, 10, 0, 0, 0, time.FixedZone("", 7200))
	_, err := c.FindOrders(context.Background(), ecster.OrderQuery{OrderReference: "r1", MerchantID: "m1", NationalID: "se530516-9756",
		PaymentMethod: "PARTPAYMENT", Status: ecster.OrderReady, From: from, To: from.Add(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"orderReference": {"r1"}, "merchantId": {"m1"}, "nationalId": {"SE530516-9756"}, "paymentMethod": {"PARTPAYMENT"},
		"status": {"READY"}, "from": {"2023-04-01T10:00:00+02:00"}, "to": {"2023-04-01T11:00:00+02:00"},
	}, got)
}

// A search that answers order summaries without transactions is followed by a GET of the
// newest order, so that the operations see its transactions; the newest created wins.
func TestSummariesAreCompleted(t *testing.T) {
	t.Parallel()
	c, mt := mockClient(t)
	mt.RegisterResponder("GET", mockBase+"/v1/orders", httpmock.NewStringResponder(200, `[
		{"id":"old","status":"DENIED","created":"2023-04-01T10:00:00+01:00","amount":1000,"currency":"SEK","orderReference":"r1"},
		{"id":"new","status":"READY","created":"2023-04-01T10:05:00+01:00","amount":1000,"currency":"SEK","orderReference":"r1"},
		{"id":"other","status":"READY","created":"2023-04-01T11:00:00+01:00","amount":1000,"currency":"SEK","orderReference":"r10"}]`))
	mt.RegisterResponder("GET", mockBase+"/v1/orders/new", httpmock.NewStringResponder(200,
		`{"id":"new","status":"PARTIALLY_DELIVERED","created":"2023-04-01T10:05:00+01:00","amount":1000,"currency":"SEK","debitedAmount":400,
		  "orderReference":"r1","transactions":[{"id":"t1","type":"DEBIT","amount":400,"transactionReference":"r1-DEBIT-1","created":"2023-04-01T10:06:00+01:00"}]}`))
	p, err := c.GetPayment(context.Background(), "r1")
	require.NoError(t, err)
	assert.Equal(t, "new", p.ProviderID)
	assert.Equal(t, paykit.StatusPartiallyCaptured, p.Status)
	assert.Equal(t, sek(400), p.Captured)
	assert.Equal(t, 1, mt.GetCallCountInfo()["GET "+mockBase+"/v1/orders/new"])
}

func TestPaymentMethods(t *testing.T) {
	t.Parallel()
	_, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	pm, err := c.PaymentMethods(ctx, ecster.PaymentMethodsQuery{Locale: "sv-se", Nationality: "se", Currency: "SEK", Amount: 100000})
	require.NoError(t, err)
	require.Len(t, pm.Methods, 2)
	assert.Equal(t, ecster.MethodInvoice, pm.Methods[0].Name)
	assert.Equal(t, ecster.Names{"INVOICE_SE_1"}, pm.Methods[0].SubMethods)
	assert.Contains(t, pm.Methods[0].IdentificationMethods, "SE_BANKID")
	assert.True(t, pm.Methods[1].IsPartPayment())
	assert.NotEmpty(t, pm.LocalizedInfo)

	only, err := c.PaymentMethods(ctx, ecster.PaymentMethodsQuery{PaymentMethod: ecster.MethodPartPayment, InPerson: true})
	require.NoError(t, err)
	assert.Len(t, only.Methods, 1)

	terms, err := c.PartPaymentTerms(ctx, ecster.TermsQuery{Amount: 120000, Currency: "SEK"})
	require.NoError(t, err)
	assert.Equal(t, "PARTPAYMENT_SE_1", terms.Submethod)
	fee, ok := terms.Term(ecster.TermStartFee)
	require.True(t, ok)
	assert.Equal(t, ecster.LocalizedTerm{ID: "startFee", Text: "Uppläggningsavgift", Value: "395", Unit: "kr"}, fee)
	_, ok = terms.Term("nothing")
	assert.False(t, ok)

	for name, q := range map[string]ecster.PaymentMethodsQuery{
		"locale":      {Locale: "svenska"},
		"nationality": {Nationality: "SWE"},
		"currency":    {Currency: "XYZ"},
		"amount":      {Amount: -1},
	} {
		_, err := c.PaymentMethods(ctx, q)
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
	}
}

// Sub-methods may come as objects too.
func TestNamesReadObjects(t *testing.T) {
	t.Parallel()
	c, mt := mockClient(t)
	mt.RegisterResponder("GET", mockBase+"/v1/paymentmethods", httpmock.NewStringResponder(200,
		`{"paymentMethods":[{"name":"INVOICE","subMethods":[{"name":"INVOICE_SE_1"},{"id":"INVOICE_SE_2"},"INVOICE_SE_3"]}]}`))
	pm, err := c.PaymentMethods(context.Background(), ecster.PaymentMethodsQuery{})
	require.NoError(t, err)
	assert.Equal(t, ecster.Names{"INVOICE_SE_1", "INVOICE_SE_2", "INVOICE_SE_3"}, pm.Methods[0].SubMethods)
}

// The native cart API validates every data type before sending.
func TestCartValidation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	good := ecster.CartRequest{OrderReference: "r1", Amount: 2000, Currency: "SEK",
		Rows:     []ecster.CartRow{{Name: "A", Quantity: 2, UnitAmount: 1100, VATRate: 2500, DiscountAmount: 200}},
		Tags:     []ecster.Tag{"product:TV", "TV"},
		Consumer: &ecster.Consumer{NationalID: "se530516-9756"},
	}
	cart, err := c.CreateCart(ctx, good)
	require.NoError(t, err)
	snap, _ := srv.Cart("r1")
	assert.Equal(t, cart.Key, snap.Key)
	assert.Equal(t, []string{"product:TV", "TV"}, snap.Tags)
	assert.Equal(t, ecster.NationalID("SE530516-9756"), snap.Consumer.NationalID, "sent normalized")

	for name, mutate := range map[string]func(*ecster.CartRequest){
		"no rows":         func(r *ecster.CartRequest) { r.Rows = nil },
		"sum":             func(r *ecster.CartRequest) { r.Amount = 2001 },
		"bad tag":         func(r *ecster.CartRequest) { r.Tags = []ecster.Tag{"a:"} },
		"bad national id": func(r *ecster.CartRequest) { r.Consumer = &ecster.Consumer{NationalID: "SE53"} },
		"bad locale":      func(r *ecster.CartRequest) { r.Locale = "sv" },
		"currency":        func(r *ecster.CartRequest) { r.Currency = "SEKK" },
		"negative amount": func(r *ecster.CartRequest) { r.Amount = -1 },
		"purchase type":   func(r *ecster.CartRequest) { r.PurchaseType = "C2C" },
		"no reference":    func(r *ecster.CartRequest) { r.OrderReference = "" },
		"terms URL":       func(r *ecster.CartRequest) { r.ShopTermsURL = "terms.html" },
		"discount": func(r *ecster.CartRequest) {
			r.Rows = []ecster.CartRow{{Name: "A", Quantity: 1, UnitAmount: 2000, DiscountAmount: -1}}
		},
		"overflow": func(r *ecster.CartRequest) { r.Rows = []ecster.CartRow{{Name: "A", Quantity: 3, UnitAmount: 1 << 62}} },
	} {
		r := good
		mutate(&r)
		_, err := c.CreateCart(ctx, r)
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
	}
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteCarts))

	updated, err := c.UpdateCart(ctx, cart.Key, good)
	require.NoError(t, err)
	assert.NotEqual(t, cart.Key, updated.Key)
	_, err = c.UpdateCart(ctx, cart.Key, good)
	assert.ErrorIs(t, err, paykit.ErrNotFound, "the old key expired")
	_, err = c.UpdateCart(ctx, "", good)
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)

	b2b := good
	b2b.OrderReference, b2b.PurchaseType = "r2", ecster.PurchaseB2B
	_, err = c.CreateCart(ctx, b2b)
	require.NoError(t, err)
}
