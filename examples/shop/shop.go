package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/paykit/paykit"
)

// Product is something the shop sells, priced in one currency: the currency picks the
// provider through the Router's rules.
type Product struct {
	ID    string
	Name  string
	Price paykit.Money
}

// Products are the shop's catalogue: one or more per provider.
var Products = []Product{
	{"tent", "Tent for two", paykit.Money{Amount: 129900, Currency: "SEK"}},
	{"course", "Cooking course", paykit.Money{Amount: 500000, Currency: "INR"}},
	{"mug", "Enamel mug", paykit.Money{Amount: 1990, Currency: "EUR"}},
	{"ebook", "E-book", paykit.Money{Amount: 2500, Currency: "ECS"}},
	{"banner", "Banner ad for a week", paykit.Money{Amount: 40, Currency: "EC"}},
}

func productByID(id string) (Product, bool) {
	for _, p := range Products {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

// Order states as the shop shows them.
const (
	OrderAwaiting  = "awaiting payment"
	OrderPaid      = "paid"
	OrderExpired   = "expired"
	OrderFailed    = "failed"
	OrderCancelled = "cancelled"
)

// Line is a product and how many.
type Line struct {
	Product  Product
	Quantity int
}

// Total is the line's price times its quantity.
func (l Line) Total() paykit.Money {
	return paykit.Money{Amount: l.Product.Price.Amount * int64(l.Quantity), Currency: l.Product.Price.Currency}
}

// Order is one checkout: its id is the payment's id.
type Order struct {
	ID       string
	Provider string
	Lines    []Line
	Amount   paykit.Money
	State    string
	Payment  *paykit.Payment // as CreatePayment returned it: its Action is the payment page
	Events   []string        // the notifications fn ran for
	Created  time.Time
}

// Links gives the sandbox's pages for a payment's Action: where a button on the payment page
// goes. Each returns "" when it has no page (real providers: the Action's own URL, or the
// provider's script, is used).
type Links struct {
	// EcsterCheckout is the checkout page of a cart key.
	EcsterCheckout func(cartKey, returnURL string) string
	// EchelonWebApp is the web app page of a PAYIN_CREATE token.
	EchelonWebApp func(token, callbackURL, returnURL string) string
	// ECreditsWallet is the wallet step of a request id.
	ECreditsWallet func(id, returnURL string) string
}

// Shop is the web shop: catalogue, carts, checkout through a paykit.Router, payment pages
// and order pages, and the Router's webhook handler at /webhooks/{provider}.
type Shop struct {
	router  *paykit.Router
	baseURL string // where browsers and providers reach the shop, without a trailing slash
	links   Links
	log     *slog.Logger

	mu      sync.Mutex
	carts   map[string][]Line // by the shop_cart cookie
	orders  map[string]*Order // by payment id (eCredits ids in lower case too)
	changed chan struct{}     // closed and replaced when an order changes
}

// NewShop returns the shop over router, reached at baseURL.
func NewShop(router *paykit.Router, baseURL string, links Links, log *slog.Logger) *Shop {
	if log == nil {
		log = slog.Default()
	}
	return &Shop{
		router: router, baseURL: strings.TrimSuffix(baseURL, "/"), links: links, log: log,
		carts: make(map[string][]Line), orders: make(map[string]*Order), changed: make(chan struct{}),
	}
}

// Handler serves the shop.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.catalogue)
	mux.HandleFunc("POST /cart", s.addToCart)
	mux.HandleFunc("GET /cart", s.showCart)
	mux.HandleFunc("POST /checkout", s.checkout)
	mux.HandleFunc("GET /orders/{id}", s.showOrder)
	mux.HandleFunc("GET /orders/{id}/pay", s.payPage)
	mux.HandleFunc("GET /orders/{id}/qr.png", s.qrImage)
	mux.Handle("/webhooks/", s.router.WebhookHandler("/webhooks", s.fulfil))
	return mux
}

// fulfil runs once per payment state the Router's webhook handler accepts: the order takes
// the state of the payment as the handler fetched it.
func (s *Shop) fulfil(_ context.Context, n *paykit.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderLocked(n.PaymentID)
	if o == nil {
		// Not ours (another shop on the same sandbox): acknowledged, nothing to do.
		s.log.Warn("notification of an unknown order", "provider", n.Provider, "payment_id", n.PaymentID)
		return nil
	}
	switch n.Payment.Status {
	case paykit.StatusSucceeded, paykit.StatusAuthorized, paykit.StatusPartiallyCaptured:
		o.State = OrderPaid
	case paykit.StatusExpired:
		o.State = OrderExpired
	case paykit.StatusFailed:
		o.State = OrderFailed
	case paykit.StatusCanceled:
		o.State = OrderCancelled
	}
	o.Events = append(o.Events, fmt.Sprintf("%s: %s %s → %s", time.Now().Format("15:04:05"), n.Provider, n.Event, n.Payment.Status))
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

func (s *Shop) orderLocked(id string) *Order {
	if o := s.orders[id]; o != nil {
		return o
	}
	return s.orders[strings.ToLower(id)]
}

// Order returns a copy of the order with the payment id.
func (s *Shop) Order(id string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderLocked(id)
	if o == nil {
		return Order{}, false
	}
	c := *o
	c.Events = append([]string(nil), o.Events...)
	return c, true
}

// WaitState waits until the order id is in state, or ctx ends.
func (s *Shop) WaitState(ctx context.Context, id, state string) error {
	for {
		s.mu.Lock()
		o, ch := s.orderLocked(id), s.changed
		got := ""
		if o != nil {
			got = o.State
		}
		s.mu.Unlock()
		if got == state {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("order %s is %q, not %q: %w", id, got, state, ctx.Err())
		}
	}
}

const cartCookie = "shop_cart"

func (s *Shop) cartID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cartCookie); err == nil && c.Value != "" {
		return c.Value
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: cartCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return id
}

func (s *Shop) catalogue(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "catalogue", map[string]any{"Products": Products, "Notice": r.URL.Query().Get("notice")})
}

func (s *Shop) addToCart(w http.ResponseWriter, r *http.Request) {
	p, ok := productByID(r.FormValue("product"))
	if !ok {
		http.Error(w, "no such product", http.StatusBadRequest)
		return
	}
	id := s.cartID(w, r)
	s.mu.Lock()
	lines := s.carts[id]
	// One currency per cart: the currency picks the provider. A product in another currency
	// starts a new cart.
	if len(lines) > 0 && lines[0].Product.Price.Currency != p.Price.Currency {
		lines = nil
	}
	found := false
	for i := range lines {
		if lines[i].Product.ID == p.ID {
			lines[i].Quantity++
			found = true
		}
	}
	if !found {
		lines = append(lines, Line{Product: p, Quantity: 1})
	}
	s.carts[id] = lines
	s.mu.Unlock()
	http.Redirect(w, r, "/cart", http.StatusSeeOther)
}

func cartTotal(lines []Line) paykit.Money {
	var t paykit.Money
	for _, l := range lines {
		t.Currency = l.Product.Price.Currency
		t.Amount += l.Total().Amount
	}
	return t
}

func (s *Shop) showCart(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	lines := append([]Line(nil), s.carts[s.cartID(w, r)]...)
	s.mu.Unlock()
	data := map[string]any{"Lines": lines, "Total": cartTotal(lines)}
	if len(lines) > 0 {
		data["Providers"] = strings.Join(s.router.Candidates(paykit.PaymentRequest{Amount: cartTotal(lines)}), ", then ")
	}
	s.render(w, http.StatusOK, "cart", data)
}

// checkout creates the payment of the cart through the Router: the order is recorded under
// its payment id before the create, as the id is the create's idempotency key.
func (s *Shop) checkout(w http.ResponseWriter, r *http.Request) {
	cart := s.cartID(w, r)
	s.mu.Lock()
	lines := append([]Line(nil), s.carts[cart]...)
	s.mu.Unlock()
	if len(lines) == 0 {
		http.Redirect(w, r, "/?notice=Your+cart+is+empty.", http.StatusSeeOther)
		return
	}
	req := paykit.PaymentRequest{Amount: cartTotal(lines), Locale: "en-GB"}
	var names []string
	for _, l := range lines {
		req.Items = append(req.Items, paykit.Item{Name: l.Product.Name, Quantity: l.Quantity, UnitAmount: l.Product.Price, VATRate: 2500})
		names = append(names, l.Product.Name)
	}
	req.Description = shortDescription(strings.Join(names, ", "))
	cands := s.router.Candidates(req)
	if len(cands) == 0 {
		http.Error(w, "no provider takes "+req.Amount.Currency, http.StatusBadRequest)
		return
	}
	// The id is made in the form of the first candidate; the order is stored with it first.
	req.ID = newID(s.router, cands[0])
	o := &Order{ID: req.ID, Lines: lines, Amount: req.Amount, State: OrderAwaiting, Created: time.Now()}
	s.mu.Lock()
	s.orders[req.ID] = o
	s.mu.Unlock()

	req.NotifyURL = s.baseURL + "/webhooks/" + paykit.NotifyPlaceholder
	req.ReturnURL = s.baseURL + "/orders/" + url.PathEscape(req.ID)
	req.CancelURL = req.ReturnURL
	pay, err := s.router.CreatePayment(r.Context(), req)
	if err != nil {
		s.log.Error("checkout", "payment_id", req.ID, "err", err)
		s.render(w, http.StatusBadGateway, "error", map[string]any{"Error": err.Error(), "ID": req.ID})
		return
	}
	s.mu.Lock()
	if pay.ID != req.ID { // a failover to a provider of another id form
		delete(s.orders, req.ID)
		o.ID = pay.ID
	}
	o.Provider, o.Payment = pay.Provider, pay
	s.orders[o.ID] = o
	if lower := strings.ToLower(o.ID); lower != o.ID {
		s.orders[lower] = o
	}
	delete(s.carts, cart)
	s.mu.Unlock()
	http.Redirect(w, r, "/orders/"+url.PathEscape(o.ID)+"/pay", http.StatusSeeOther)
}

// newID makes a payment id the provider takes (Entrecard: 32 characters at most; eCredits:
// a GUID).
func newID(router *paykit.Router, provider string) string {
	if p, ok := router.Provider(provider); ok {
		if m, ok := p.(paykit.IDMaker); ok {
			return m.NewID()
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// shortDescription keeps a description Entrecard takes: letters, digits, space, - _ . , and
// at most 64 characters.
func shortDescription(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == ' ' || r == '-' || r == '_' || r == '.' || r == ',' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() == 64 {
			break
		}
	}
	return b.String()
}

func (s *Shop) showOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := s.Order(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.render(w, http.StatusOK, "order", map[string]any{"Order": o, "Pending": o.State == OrderAwaiting, "Refresh": o.State == OrderAwaiting})
}

// payPage shows what the payment's Action asks of the customer.
func (s *Shop) payPage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.Order(r.PathValue("id"))
	if !ok || o.Payment == nil {
		http.NotFound(w, r)
		return
	}
	orderURL := s.baseURL + "/orders/" + url.PathEscape(o.ID)
	data := map[string]any{"Order": o, "Action": o.Payment.Action, "OrderURL": orderURL}
	if a := o.Payment.Action; a != nil {
		switch a.Type {
		case paykit.ActionQRCode:
			data["QR"] = "/orders/" + url.PathEscape(o.ID) + "/qr.png"
			if s.links.ECreditsWallet != nil && o.Provider == "ecredits" {
				data["Wallet"] = s.links.ECreditsWallet(o.ID, orderURL)
			}
		case paykit.ActionClientToken:
			switch {
			case o.Provider == "ecster" && s.links.EcsterCheckout != nil:
				data["Checkout"] = s.links.EcsterCheckout(a.Token, orderURL)
			case o.Provider == "echelon" && s.links.EchelonWebApp != nil:
				data["Checkout"] = s.links.EchelonWebApp(a.Token, s.baseURL+"/webhooks/echelon", orderURL)
			}
		}
	}
	s.render(w, http.StatusOK, "pay", data)
}

// qrImage is the PNG of the order's Action.QRCode.
func (s *Shop) qrImage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.Order(r.PathValue("id"))
	if !ok || o.Payment == nil || o.Payment.Action == nil || o.Payment.Action.QRCode == "" {
		http.NotFound(w, r)
		return
	}
	png, err := qrcode.Encode(o.Payment.Action.QRCode, qrcode.Medium, 256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

// Orders returns every order, newest first.
func (s *Shop) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[*Order]bool{}
	var out []Order
	for _, o := range s.orders {
		if !seen[o] {
			seen[o] = true
			out = append(out, *o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

func (s *Shop) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		s.log.Error("render", "page", name, "err", err)
	}
}
