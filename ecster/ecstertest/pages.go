package ecstertest

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
)

// The checkout page the fake serves for a person or a browser test. Ecster's real checkout
// is its script in the merchant's page, started with the cart key; the fake's page plays its
// part without JavaScript: the consumer sees the cart, picks invoice or part payment and
// completes (an order READY and an OEN CREATED, as Pay does) or aborts (ABORTED, as Abort
// does), and the browser goes back to the return URL the merchant's page gave.
const (
	// RoutePages is the route of every page under /sandbox/ (Call.Route, OnRoute): a fault
	// given without OnRoute hits the next page as it hits the next API call.
	RoutePages = "/sandbox/{page}"
	// PathCheckout is the checkout of a cart: GET ?key={cart key}[&return=URL].
	PathCheckout = "/sandbox/checkout"
	// PathCheckoutComplete completes or aborts the cart (form: key, method INVOICE or
	// PARTPAYMENT, action complete or abort, return) and redirects to return.
	PathCheckoutComplete = "/sandbox/checkout/complete"
)

// CheckoutURL is the checkout page of the cart key on this server; returnURL (may be empty)
// is where the browser goes after completing or aborting.
func (s *Server) CheckoutURL(key, returnURL string) string {
	q := url.Values{"key": {key}}
	if returnURL != "" {
		q.Set("return", returnURL)
	}
	return s.URL + PathCheckout + "?" + q.Encode()
}

// AllCarts returns every cart of every payment, oldest first.
func (s *Server) AllCarts() []Cart {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Cart, 0, len(s.carts))
	for _, c := range s.carts {
		out = append(out, c.snapshot())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

func routeWithPages(path string) string {
	if strings.HasPrefix(path, "/sandbox/") {
		return RoutePages
	}
	return route(path)
}

func (s *Server) handleWithPages(r *http.Request, pattern string) response {
	if pattern != RoutePages {
		return s.handle(r, pattern)
	}
	switch r.URL.Path {
	case PathCheckout:
		if r.Method != http.MethodGet {
			return pageMethodNotAllowed(http.MethodGet)
		}
		return s.checkoutPage(r.URL.Query().Get("key"), r.URL.Query().Get("return"), "")
	case PathCheckoutComplete:
		if r.Method != http.MethodPost {
			return pageMethodNotAllowed(http.MethodPost)
		}
		if err := r.ParseForm(); err != nil {
			return pageText(http.StatusBadRequest, "The form cannot be read.")
		}
		f := r.PostForm
		key, back := f.Get("key"), f.Get("return")
		status, method, sub := ecster.OrderReady, ecster.MethodInvoice, "INVOICE_SE_1"
		switch {
		case f.Get("action") == "abort":
			status = ecster.OrderAborted
		case f.Get("method") == ecster.MethodPartPayment:
			method, sub = ecster.MethodPartPayment, "PARTPAYMENT_SE_1"
		}
		if err := s.completeCart(key, status, method, sub); err != nil {
			resp := s.checkoutPage(key, back, err.Error())
			if resp.Status == http.StatusOK {
				resp.Status = http.StatusConflict
			}
			return resp
		}
		if back == "" || !validReturn(back) {
			back = PathCheckout + "?" + url.Values{"key": {key}}.Encode()
		}
		return response{Status: http.StatusSeeOther, Header: http.Header{"Location": {back}}}
	}
	return pageText(http.StatusNotFound, "No page at "+r.URL.Path+".")
}

// completeCart is CompleteCheckout for the cart key, with the method the consumer chose.
func (s *Server) completeCart(key string, status ecster.OrderStatus, method, submethod string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fake.Closed() {
		return ErrClosed
	}
	c, ok := s.carts[key]
	switch {
	case !ok:
		return fmt.Errorf("%w: no cart has that key", ErrUnknownPayment)
	case !c.open:
		return fmt.Errorf("%w: the cart was completed or replaced", ErrNoCart)
	}
	c.open = false
	now := s.Now()
	o := &order{
		id: randomID(20), ref: c.ref, status: status, created: now, amount: c.amount, currency: c.currency,
		method: method, submethod: submethod, consumer: c.consumer, notifyURL: c.notifyURL,
	}
	if o.consumer == nil {
		o.consumer = defaultConsumer()
	}
	o.txs = append(o.txs, &transaction{id: randomID(20), typ: ecster.TransactionInitial, created: now, amount: c.amount})
	s.orders[o.id] = o
	s.refs[o.ref] = append(s.refs[o.ref], o)
	s.notifyLocked(o, ecster.EventCreated, "")
	return nil
}

var checkoutTemplate = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ecster Pay checkout</title>
<style>body{font-family:system-ui,sans-serif;max-width:34em;margin:2em auto;color:#222}
h1{color:#c30}table{border-collapse:collapse;width:100%}td,th{padding:.25em;text-align:left;border-bottom:1px solid #eee}
button{font-size:1.05em;padding:.45em 1.2em;border-radius:6px;border:1px solid #c30;background:#fff;color:#c30}
button.primary{background:#c30;color:#fff}.err{color:#b00}.muted{color:#666;font-size:.9em}</style></head>
<body><h1>Ecster Pay</h1>
<p class="muted">Sandbox: this page plays Ecster's checkout script for cart <code id="cart-key">{{.Key}}</code>.</p>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<table><tr><th>Item</th><th>Qty</th><th>Price</th></tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td>{{.Quantity}}</td><td>{{.Price}}</td></tr>{{end}}
<tr><th colspan="2">Total</th><th id="total">{{.Total}}</th></tr></table>
<p>Consumer: {{.Consumer}}</p>
<p id="status">{{.Status}}</p>
{{if .Open}}<form method="post" action="{{.Action}}">
<input type="hidden" name="key" value="{{.Key}}"><input type="hidden" name="return" value="{{.Return}}">
<p><label><input type="radio" name="method" value="INVOICE" id="invoice" checked> Invoice, pay within 30 days</label><br>
<label><input type="radio" name="method" value="PARTPAYMENT" id="partpayment"> Part payment, 12 months</label></p>
<p><button class="primary" id="complete" type="submit" name="action" value="complete">Complete purchase</button>
<button id="abort" type="submit" name="action" value="abort">Abort</button></p></form>{{end}}
{{if .Return}}<p><a id="back" href="{{.Return}}">Back to the shop</a></p>{{end}}
</body></html>`))

type checkoutRow struct{ Name, Quantity, Price string }

// checkoutPage renders the checkout of the cart key.
func (s *Server) checkoutPage(key, back, errText string) response {
	s.mu.Lock()
	c, ok := s.carts[key]
	var snap Cart
	var orderStatus ecster.OrderStatus
	if ok {
		snap = c.snapshot()
		if list := s.refs[c.ref]; len(list) > 0 {
			orderStatus = list[len(list)-1].status
		}
	}
	s.mu.Unlock()
	if !ok {
		return pageText(http.StatusNotFound, "No cart with that key.")
	}
	if back != "" && !validReturn(back) {
		back = ""
	}
	rows := make([]checkoutRow, 0, len(snap.Rows))
	for _, r := range snap.Rows {
		rows = append(rows, checkoutRow{r.Name, r.Quantity, paykit.Money{Amount: r.UnitAmount, Currency: snap.Amount.Currency}.String()})
	}
	consumer := "to be identified at checkout"
	if cons := snap.Consumer; cons != nil && cons.Name != nil {
		consumer = cons.Name.FirstName + " " + cons.Name.LastName
	}
	status := "Choose how to pay."
	switch {
	case !snap.Open && orderStatus != "":
		status = "Order " + string(orderStatus) + "."
	case !snap.Open:
		status = "This cart was replaced."
	}
	var b bytes.Buffer
	err := checkoutTemplate.Execute(&b, map[string]any{
		"Key": snap.Key, "Rows": rows, "Total": snap.Amount.String(), "Consumer": consumer, "Status": status,
		"Open": snap.Open, "Return": back, "Action": PathCheckoutComplete, "Error": errText,
	})
	if err != nil {
		return pageText(http.StatusInternalServerError, err.Error())
	}
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: b.Bytes()}
}

// validReturn reports whether u is an absolute http(s) URL, the only kind the pages send a
// browser to.
func validReturn(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

func pageText(status int, text string) response {
	return response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(text + "\n")}
}

func pageMethodNotAllowed(allow string) response {
	r := pageText(http.StatusMethodNotAllowed, "Use "+allow+".")
	r.Header.Set("Allow", allow)
	return r
}
