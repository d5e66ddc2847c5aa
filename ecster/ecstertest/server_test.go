package ecstertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/internal/fakeserver"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newServer(t *testing.T, cfg ecstertest.Config) *ecstertest.Server {
	t.Helper()
	srv := ecstertest.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// call sends a request with the default keys and returns the status and the decoded body.
func call(t *testing.T, srv *ecstertest.Server, method, path, body string, headers ...string) (int, map[string]any, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("x-api-key", ecstertest.DefaultAPIKey)
	req.Header.Set("x-merchant-key", ecstertest.DefaultMerchantKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw
}

func cartBody(ref string, amount int, rows string, extra string) string {
	return `{"locale":{"language":"sv","country":"SE"},"countryCode":"SE","parameters":{"shopTermsUrl":"https://shop.example/terms","purchaseType":{"type":"B2C"}},` +
		`"cart":{"amount":` + itoa(amount) + `,"currency":"SEK","rows":` + rows + `},"orderReference":"` + ref + `"` + extra + `}`
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

const oneRow = `[{"partNumber":"A","name":"Goods","quantity":1,"unitAmount":1000,"vatRate":2500}]`

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	status, body, _ := call(t, srv, "GET", "/v1/orders", "", "x-api-key", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, float64(4011), body["code"])
	status, _, _ = call(t, srv, "GET", "/v1/orders", "", "x-api-key", "wrong")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body, _ = call(t, srv, "GET", "/v1/orders", "", "x-merchant-key", "wrong")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, "No access", body["type"])
	status, _, _ = call(t, srv, "GET", "/v1/orders", "", "x-merchant-key", "")
	assert.Equal(t, http.StatusForbidden, status)
	status, _, raw := call(t, srv, "GET", "/v1/orders", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "[]", string(raw))

	status, _, _ = call(t, srv, "GET", "/v1/nothing", "")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = call(t, srv, "DELETE", "/v1/carts", "", "x-api-key", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status, "routing first, then the keys")
}

func TestCarts(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	status, body, _ := call(t, srv, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, `,"notificationUrl":"https://shop.example/oen?x=1","tags":["product:TV","TV"]`))
	require.Equal(t, http.StatusCreated, status, body)
	key := body["checkoutCart"].(map[string]any)["key"].(string)
	require.NotEmpty(t, key)
	cart, ok := srv.Cart("r1")
	require.True(t, ok)
	assert.Equal(t, key, cart.Key)
	assert.Equal(t, "https://shop.example/oen?x=1", cart.NotificationURL)
	assert.Equal(t, []string{"product:TV", "TV"}, cart.Tags)

	status, _, _ = call(t, srv, "POST", "/v1/carts/", cartBody("r1", 1000, oneRow, ""))
	assert.Equal(t, http.StatusCreated, status, "a trailing slash, as some integrations send")

	// Update: a new key, the old one expires.
	status, body, _ = call(t, srv, "PUT", "/v1/carts/"+key, cartBody("r1", 2000, `[{"name":"Goods","quantity":2,"unitAmount":1000,"vatRate":2500}]`, ""))
	require.Equal(t, http.StatusCreated, status)
	newKey := body["checkoutCart"].(map[string]any)["key"].(string)
	assert.NotEqual(t, key, newKey)
	status, body, _ = call(t, srv, "PUT", "/v1/carts/"+key, cartBody("r1", 1000, oneRow, ""))
	assert.Equal(t, http.StatusNotFound, status, "the old key cannot be reused")
	assert.Equal(t, float64(4040), body["code"])

	for name, b := range map[string]string{
		"rows do not add up":    cartBody("r2", 999, oneRow, ""),
		"no rows":               cartBody("r2", 0, `[]`, ""),
		"decimal amount":        strings.Replace(cartBody("r2", 1000, oneRow, ""), `"amount":1000`, `"amount":10.00`, 1),
		"decimal unit amount":   cartBody("r2", 1000, `[{"name":"x","quantity":1,"unitAmount":1000.5,"vatRate":2500}]`, ""),
		"vat rate as percent":   cartBody("r2", 1000, `[{"name":"x","quantity":1,"unitAmount":1000,"vatRate":25.5}]`, ""),
		"vat above 100 %":       cartBody("r2", 1000, `[{"name":"x","quantity":1,"unitAmount":1000,"vatRate":10001}]`, ""),
		"row without name":      cartBody("r2", 1000, `[{"quantity":1,"unitAmount":1000,"vatRate":2500}]`, ""),
		"zero quantity":         cartBody("r2", 0, `[{"name":"x","quantity":0,"unitAmount":1000,"vatRate":2500}]`, ""),
		"no orderReference":     cartBody("", 1000, oneRow, ""),
		"long orderReference":   cartBody(strings.Repeat("r", 65), 1000, oneRow, ""),
		"bad locale":            strings.Replace(cartBody("r2", 1000, oneRow, ""), `"language":"sv"`, `"language":"swe"`, 1),
		"bad notificationUrl":   cartBody("r2", 1000, oneRow, `,"notificationUrl":"/oen"`),
		"bad purchase type":     strings.Replace(cartBody("r2", 1000, oneRow, ""), `"B2C"`, `"C2C"`, 1),
		"bad tag":               cartBody("r2", 1000, oneRow, `,"tags":["a:b:c"]`),
		"bad national id":       cartBody("r2", 1000, oneRow, `,"consumer":{"nationalId":"SE5305169756"}`),
		"not an object":         `[]`,
		"unknown currency":      strings.Replace(cartBody("r2", 1000, oneRow, ""), `"SEK"`, `"XYZ"`, 1),
		"discount not integer":  cartBody("r2", 1000, `[{"name":"x","quantity":1,"unitAmount":1000,"vatRate":2500,"discountAmount":0.5}]`, ""),
		"lowercase countryCode": strings.Replace(cartBody("r2", 1000, oneRow, ""), `"countryCode":"SE"`, `"countryCode":"se"`, 1),
	} {
		status, body, _ := call(t, srv, "POST", "/v1/carts", b)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, float64(4000), body["code"], name)
	}
	_, ok = srv.Cart("r2")
	assert.False(t, ok, "no invalid cart was kept")

	// Exact sums: 0.5 × 1000 + 1.0 × 500 − 100 = 900.
	status, _, _ = call(t, srv, "POST", "/v1/carts", cartBody("r3", 900,
		`[{"name":"a","quantity":0.5,"unitAmount":1000,"vatRate":2500},{"name":"b","quantity":1.0,"unitAmount":500,"vatRate":1200,"discountAmount":100}]`, ""))
	assert.Equal(t, http.StatusCreated, status)

	status, _, _ = call(t, srv, "GET", "/v1/orders", `{"orderReference":"r1"}`)
	assert.Equal(t, http.StatusBadRequest, status, "a GET carries no body")
	req, _ := http.NewRequest("POST", srv.URL+"/v1/carts", strings.NewReader(cartBody("r4", 1000, oneRow, "")))
	req.Header.Set("x-api-key", ecstertest.DefaultAPIKey)
	req.Header.Set("x-merchant-key", ecstertest.DefaultMerchantKey)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

// checkout makes a cart of amount for ref and completes it with status; it returns the
// order's id.
func checkout(t *testing.T, srv *ecstertest.Server, ref string, amount int, status ecster.OrderStatus) string {
	t.Helper()
	st, _, _ := call(t, srv, "POST", "/v1/carts", cartBody(ref, amount, `[{"name":"Goods","quantity":1,"unitAmount":`+itoa(amount)+`,"vatRate":2500}]`, ""))
	require.Equal(t, http.StatusCreated, st)
	require.NoError(t, srv.CompleteCheckout(ref, status))
	o, ok := srv.Order(ref)
	require.True(t, ok)
	return o.ID
}

func tx(t *testing.T, srv *ecstertest.Server, orderID, body string) (int, map[string]any) {
	t.Helper()
	status, m, _ := call(t, srv, "POST", "/v1/orders/"+orderID+"/transactions", body)
	return status, m
}

// Ecster's transaction rules, and 4424 whenever they are broken.
func TestTransactionRules(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	id := checkout(t, srv, "r1", 1000, ecster.OrderReady)

	is4424 := func(status int, m map[string]any, what string) {
		t.Helper()
		assert.Equal(t, http.StatusUnprocessableEntity, status, what)
		assert.Equal(t, float64(4424), m["code"], what)
	}
	status, m := tx(t, srv, id, `{"type":"CREDIT","amount":100,"debitTransaction":"nope"}`)
	is4424(status, m, "a credit before any debit")
	status, m = tx(t, srv, id, `{"type":"DEBIT","amount":1001}`)
	is4424(status, m, "more than remains")

	status, m = tx(t, srv, id, `{"type":"DEBIT","amount":400,"transactionReference":"r1-DEBIT-1"}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "PARTIALLY_DELIVERED", m["orderStatus"])
	debit1 := m["transaction"].(map[string]any)["id"].(string)
	assert.Equal(t, "r1-DEBIT-1", m["transaction"].(map[string]any)["transactionReference"])

	status, m = tx(t, srv, id, `{"type":"DEBIT","amount":601}`)
	is4424(status, m, "more than remains after a debit")
	status, m = tx(t, srv, id, `{"type":"CREDIT","amount":401,"debitTransaction":"`+debit1+`"}`)
	is4424(status, m, "a credit above its debit")
	status, m = tx(t, srv, id, `{"type":"CREDIT","amount":150,"debitTransaction":"`+debit1+`"}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, debit1, m["transaction"].(map[string]any)["debitTransaction"])
	status, m = tx(t, srv, id, `{"type":"CREDIT","amount":251,"debitTransaction":"`+debit1+`"}`)
	is4424(status, m, "a credit above what its debit has left")

	status, m = tx(t, srv, id, `{"type":"DEBIT","amount":600}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "FULLY_DELIVERED", m["orderStatus"])
	status, m = tx(t, srv, id, `{"type":"DEBIT","amount":1}`)
	is4424(status, m, "a debit of a FULLY_DELIVERED order")
	status, m = tx(t, srv, id, `{"type":"ANNUL","amount":1}`)
	is4424(status, m, "an annul of a FULLY_DELIVERED order")

	o, _ := srv.Order("r1")
	assert.Equal(t, ecster.Amount(1000), o.DebitedAmount)
	assert.Equal(t, ecster.Amount(150), o.CreditedAmount)
	txs := srv.Transactions("r1")
	require.Len(t, txs, 4, "INITIAL, DEBIT, CREDIT, DEBIT: the refused ones are not recorded")
	assert.Equal(t, ecster.TransactionInitial, txs[0].Type)
	assert.Equal(t, debit1, txs[2].DebitTransaction)

	for name, b := range map[string]string{
		"unknown type":       `{"type":"REFUND","amount":1}`,
		"no amount":          `{"type":"DEBIT"}`,
		"decimal amount":     `{"type":"DEBIT","amount":1.5}`,
		"negative amount":    `{"type":"DEBIT","amount":-1}`,
		"credit no debit id": `{"type":"CREDIT","amount":1}`,
		"reference a number": `{"type":"DEBIT","amount":1,"transactionReference":7}`,
	} {
		status, m := tx(t, srv, id, b)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, float64(4000), m["code"], name)
	}
	status, _ = tx(t, srv, "NoSuchOrder", `{"type":"DEBIT","amount":1}`)
	assert.Equal(t, http.StatusNotFound, status)

	// Debits only in READY or PARTIALLY_DELIVERED.
	for _, st := range []ecster.OrderStatus{ecster.OrderPendingDecision, ecster.OrderPendingPayment, ecster.OrderDenied, ecster.OrderBlocked, ecster.OrderManualProcessing} {
		pid := checkout(t, srv, "s-"+string(st), 1000, st)
		status, m := tx(t, srv, pid, `{"type":"DEBIT","amount":1}`)
		is4424(status, m, string(st))
	}

	// ANNUL: all of it, or the rest after a partial debit; "ANNULL" is read too.
	a := checkout(t, srv, "a1", 1000, ecster.OrderReady)
	status, m = tx(t, srv, a, `{"type":"ANNULL"}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "ANNULLED", m["orderStatus"])
	assert.Equal(t, float64(1000), m["transaction"].(map[string]any)["amount"])
	b := checkout(t, srv, "a2", 1000, ecster.OrderReady)
	tx(t, srv, b, `{"type":"DEBIT","amount":300}`)
	status, m = tx(t, srv, b, `{"type":"ANNUL","amount":200}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "PARTIALLY_DELIVERED", m["orderStatus"])
	status, m = tx(t, srv, b, `{"type":"ANNUL","amount":501}`)
	is4424(status, m, "an annul above what remains")
	status, m = tx(t, srv, b, `{"type":"ANNUL","amount":500}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "FULLY_DELIVERED", m["orderStatus"])

	// closeDebit closes the order for debits.
	cd := checkout(t, srv, "c1", 1000, ecster.OrderReady)
	status, m = tx(t, srv, cd, `{"type":"DEBIT","amount":100,"closeDebit":true}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "FULLY_DELIVERED", m["orderStatus"])
}

func TestOrdersSearchAndGet(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	id := checkout(t, srv, "r1", 1000, ecster.OrderReady)
	checkout(t, srv, "r2", 500, ecster.OrderPendingDecision)

	status, m, raw := call(t, srv, "GET", "/v1/orders/"+id, "")
	require.Equal(t, http.StatusOK, status, string(raw))
	assert.Equal(t, "r1", m["orderReference"])
	assert.Equal(t, ecstertest.DefaultMerchantID, m["merchantId"])
	assert.Len(t, id, 20)
	created, err := ecster.ParseTimestamp(m["created"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), created, time.Minute)
	assert.Contains(t, m["created"], "+01:00")

	count := func(q string) int {
		status, _, raw := call(t, srv, "GET", "/v1/orders"+q, "")
		require.Equal(t, http.StatusOK, status, q)
		var list []map[string]any
		require.NoError(t, json.Unmarshal(raw, &list))
		return len(list)
	}
	assert.Equal(t, 1, count("?orderReference=r1"))
	assert.Equal(t, 0, count("?orderReference=r3"))
	assert.Equal(t, 2, count(""))
	assert.Equal(t, 1, count("?status=READY"))
	assert.Equal(t, 2, count("?paymentMethod=INVOICE"))
	assert.Equal(t, 0, count("?paymentMethod=SWISH"))
	assert.Equal(t, 2, count("?nationalId=se530516-9756"), "case-insensitive")
	assert.Equal(t, 0, count("?merchantId=other"))
	assert.Equal(t, 0, count("?from="+strings.ReplaceAll(ecster.FormatTimestamp(time.Now().Add(time.Hour)), "+", "%2B")))
	assert.Equal(t, 2, count("?to="+strings.ReplaceAll(ecster.FormatTimestamp(time.Now().Add(time.Hour)), "+", "%2B")))
	status, _, _ = call(t, srv, "GET", "/v1/orders?from=yesterday", "")
	assert.Equal(t, http.StatusBadRequest, status)
	status, _, _ = call(t, srv, "GET", "/v1/orders/NoSuchOrder", "")
	assert.Equal(t, http.StatusNotFound, status)
}

func TestPaymentMethodsAndTerms(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	status, m, _ := call(t, srv, "GET", "/v1/paymentmethods?locale=sv-SE&nationality=SE&currency=SEK&amount=100000", "")
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, m["paymentMethods"], 2)
	status, m, _ = call(t, srv, "GET", "/v1/paymentmethods?paymentMethod=PARTPAYMENT", "")
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, m["paymentMethods"], 1)
	status, m, _ = call(t, srv, "GET", "/v1/paymentmethods/terms?paymentMethod=PARTPAYMENT&amount=120000&currency=SEK", "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "PARTPAYMENT_SE_1", m["submethod"])
	terms := m["localizedTerms"].([]any)
	assert.Equal(t, map[string]any{"id": "startFee", "text": "Uppläggningsavgift", "value": "395", "unit": "kr"}, terms[1])
	for _, q := range []string{"?locale=svenska", "?amount=1.5", "?currency=XYZ", "?nationality=swe"} {
		status, _, _ := call(t, srv, "GET", "/v1/paymentmethods"+q, "")
		assert.Equal(t, http.StatusBadRequest, status, q)
	}
	status, _, _ = call(t, srv, "GET", "/v1/paymentmethods/terms?paymentMethod=INVOICE&amount=1", "")
	assert.Equal(t, http.StatusBadRequest, status)
	status, _, _ = call(t, srv, "GET", "/v1/paymentmethods/terms", "")
	assert.Equal(t, http.StatusBadRequest, status, "the amount is needed")
}

// OENs go to the cart's notificationUrl exactly, query kept, with the custom header, and are
// sent again until the receiver answers 200.
func TestOENDelivery(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var got atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		got.Store([]string{r.URL.RequestURI(), r.Header.Get("X-Shop-Auth"), r.Header.Get("Content-Type"), string(body)})
		if n < 3 {
			w.WriteHeader(http.StatusNoContent) // only 200 counts
			return
		}
	}))
	t.Cleanup(hook.Close)
	srv := newServer(t, ecstertest.Config{NotificationHeader: "X-Shop-Auth", NotificationHeaderValue: "v-123", RetryMinWait: time.Millisecond, RetryMaxWait: 2 * time.Millisecond})
	ctx := ctxT(t)
	status, _, _ := call(t, srv, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, `,"notificationUrl":"`+hook.URL+`/oen?shop=7&paykit_id=r1&paykit_sig=abc"`))
	require.Equal(t, http.StatusCreated, status)
	mustPay(t, srv, "r1")
	require.NoError(t, srv.WaitDelivered(ctx, "r1"))

	assert.Equal(t, int32(3), hits.Load())
	last := got.Load().([]string)
	assert.Equal(t, "/oen?shop=7&paykit_id=r1&paykit_sig=abc", last[0], "the URL exactly as the cart named it")
	assert.Equal(t, "v-123", last[1])
	assert.True(t, strings.HasPrefix(last[2], "application/json"))
	n, err := ecster.ParseOEN([]byte(last[3]))
	require.NoError(t, err)
	o, _ := srv.Order("r1")
	assert.Equal(t, o.ID, n.OrderID)
	assert.Equal(t, "r1", n.OrderReference)
	assert.Equal(t, ecster.OrderReady, n.Status)
	assert.Equal(t, ecster.EventCreated, n.Event)
	assert.Contains(t, last[3], `Z"`, "OEN times are written with Z")

	d := srv.Deliveries()
	require.Len(t, d, 1)
	assert.Len(t, d[0].Attempts, 3)
	assert.True(t, d[0].Delivered)
	assert.Equal(t, "CREATED", d[0].Event)

	// A transaction's OEN names its event and transaction.
	tx(t, srv, o.ID, `{"type":"DEBIT","amount":1000}`)
	require.NoError(t, srv.WaitDelivered(ctx, "r1"))
	last = got.Load().([]string)
	n, err = ecster.ParseOEN([]byte(last[3]))
	require.NoError(t, err)
	assert.Equal(t, ecster.EventFullDebit, n.Event)
	assert.Equal(t, ecster.OrderFullyDelivered, n.Status)
	assert.NotEmpty(t, n.TransactionID)
}

// A cart without notificationUrl uses Config.NotifyURL (or one SetNotifyURL set), or sends nothing.
func TestOENWithoutURL(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	ctx := ctxT(t)
	call(t, srv, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, ""))
	mustPay(t, srv, "r1")
	assert.ErrorIs(t, srv.WaitDelivered(ctx, "r1"), ecstertest.ErrNoNotifyURL)

	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(hook.Close)
	srv2 := newServer(t, ecstertest.Config{NotifyURL: hook.URL})
	call(t, srv2, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, ""))
	mustPay(t, srv2, "r1")
	require.NoError(t, srv2.WaitDelivered(ctx, "r1"))
	assert.Equal(t, int32(1), hits.Load())

	// SetNotifyURL gives the first server one too, for OENs sent from then on.
	srv.SetNotifyURL(hook.URL)
	call(t, srv, "POST", "/v1/carts", cartBody("r2", 1000, oneRow, ""))
	mustPay(t, srv, "r2")
	require.NoError(t, srv.WaitDelivered(ctx, "r2"))
	assert.Equal(t, int32(2), hits.Load())
}

func TestControls(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	assert.ErrorIs(t, payErr(srv, "nobody"), ecstertest.ErrUnknownPayment)
	assert.ErrorIs(t, srv.Expire("nobody"), ecstertest.ErrUnknownPayment)
	call(t, srv, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, ""))
	assert.ErrorIs(t, srv.Block("r1"), ecstertest.ErrNoOrder)
	assert.ErrorIs(t, srv.CompleteCheckout("r1", ecster.OrderPartiallyDelivered), ecstertest.ErrBadStatus)
	assert.ErrorIs(t, srv.CompleteCheckout("r1", ecster.OrderAnnulled), ecstertest.ErrBadStatus)
	require.NoError(t, srv.Decline("r1"))
	assert.ErrorIs(t, payErr(srv, "r1"), ecstertest.ErrNoCart, "the cart is an order now")
	o, _ := srv.Order("r1")
	assert.Equal(t, ecster.OrderDenied, o.Status)

	call(t, srv, "POST", "/v1/carts", cartBody("r1", 1000, oneRow, "")) // the consumer tries again
	require.NoError(t, srv.Abort("r1"))
	assert.Len(t, srv.Orders("r1"), 2)
	o, _ = srv.Order("r1")
	assert.Equal(t, ecster.OrderAborted, o.Status, "the newest order")

	id := checkout(t, srv, "r2", 1000, ecster.OrderPendingDecision)
	require.NoError(t, srv.SetStatus("r2", ecster.OrderReady))
	assert.ErrorIs(t, srv.SetStatus("r2", ecster.OrderFullyDelivered), ecstertest.ErrBadStatus)
	tx(t, srv, id, `{"type":"DEBIT","amount":100}`)
	assert.ErrorIs(t, srv.Expire("r2"), ecstertest.ErrBadStatus, "a debited order does not expire")
	assert.ErrorIs(t, srv.Block("r2"), ecstertest.ErrBadStatus)
	assert.ErrorIs(t, srv.ManualProcessing("r2"), ecstertest.ErrBadStatus)

	checkout(t, srv, "r3", 1000, ecster.OrderReady)
	require.NoError(t, srv.ManualProcessing("r3"))
	o, _ = srv.Order("r3")
	assert.Equal(t, ecster.OrderManualProcessing, o.Status)
	require.NoError(t, srv.Expire("r3"))
	o, _ = srv.Order("r3")
	assert.Equal(t, ecster.OrderExpired, o.Status)

	checkout(t, srv, "r4", 700, ecster.OrderFullyDelivered)
	o, _ = srv.Order("r4")
	assert.Equal(t, ecster.Amount(700), o.DebitedAmount, "charged at purchase")
	assert.Equal(t, ecster.MethodSwish, o.Properties.Method)

	srv.Close()
	assert.ErrorIs(t, srv.Block("r3"), ecstertest.ErrClosed)
}

// DropNext processes a transaction and closes the connection: the debit is recorded though
// the client got no answer.
func TestDropAfterProcessing(t *testing.T) {
	t.Parallel()
	srv := newServer(t, ecstertest.Config{})
	id := checkout(t, srv, "r1", 1000, ecster.OrderReady)
	srv.DropNext(1, ecstertest.OnRoute(http.MethodPost, ecstertest.RouteTransactions))
	req, _ := http.NewRequest("POST", srv.URL+"/v1/orders/"+id+"/transactions", bytes.NewReader([]byte(`{"type":"DEBIT","amount":100}`)))
	req.Header.Set("x-api-key", ecstertest.DefaultAPIKey)
	req.Header.Set("x-merchant-key", ecstertest.DefaultMerchantKey)
	req.Header.Set("Content-Type", "application/json")
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err)
	o, _ := srv.Order("r1")
	assert.Equal(t, ecster.Amount(100), o.DebitedAmount)
	log := srv.CallLog()
	last := log[len(log)-1]
	assert.Equal(t, ecstertest.FaultDrop, last.Fault)
	assert.Equal(t, http.StatusCreated, last.Handled)

	srv.FailNext(1, http.StatusServiceUnavailable, ecstertest.OnRoute(http.MethodPost, ecstertest.RouteTransactions))
	status, m := tx(t, srv, id, `{"type":"DEBIT","amount":100}`)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, float64(5030), m["code"])
	o, _ = srv.Order("r1")
	assert.Equal(t, ecster.Amount(100), o.DebitedAmount, "a FailNext call is not processed")
}

// The errors every paykit fake shares are the same values here.
func TestErrorsAreShared(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]error{
		{ecstertest.ErrClosed, fakeserver.ErrClosed},
		{ecstertest.ErrGaveUp, fakeserver.ErrGaveUp},
		{ecstertest.ErrNoNotifyURL, fakeserver.ErrNoNotifyURL},
		{ecstertest.ErrUnknownPayment, fakeserver.ErrUnknownPayment},
	} {
		assert.True(t, errors.Is(pair[0], pair[1]), pair[0].Error())
	}
}

// mustPay completes the checkout of the payment id as the consumer (srv.Pay), failing the
// test when it cannot.
func mustPay(t *testing.T, srv *ecstertest.Server, id string) {
	t.Helper()
	_, err := srv.Pay(id)
	require.NoError(t, err)
}

// payErr is srv.Pay's error alone, for tests of its refusals.
func payErr(srv *ecstertest.Server, id string) error {
	_, err := srv.Pay(id)
	return err
}
