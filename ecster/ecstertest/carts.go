package ecstertest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
)

// cart is a checkout cart as the server keeps it.
type cart struct {
	key       string
	ref       string
	open      bool // neither completed nor replaced
	locale    ecster.Locale
	amount    int64
	currency  string
	message   string
	rows      []Row
	notifyURL string // as the cart named it, query and all
	consumer  *ecster.Consumer
	tags      []string
	created   time.Time
}

// Row is a cart row as the fake read it.
type Row struct {
	PartNumber     string
	Name           string
	Quantity       string // the JSON number as sent ("1", "1.0", "0.5")
	UnitAmount     int64
	VATRate        int
	DiscountAmount int64
}

// Cart is a snapshot of a checkout cart held by the server.
type Cart struct {
	Key             string
	OrderReference  string
	Open            bool // false once completed (an order) or replaced (PUT)
	Locale          ecster.Locale
	Amount          paykit.Money
	Message         string
	Rows            []Row
	NotificationURL string // exactly as the cart named it
	Consumer        *ecster.Consumer
	Tags            []string
	Created         time.Time
}

func (c *cart) snapshot() Cart {
	return Cart{
		Key: c.key, OrderReference: c.ref, Open: c.open, Locale: c.locale,
		Amount: paykit.Money{Amount: c.amount, Currency: c.currency}, Message: c.message,
		Rows: append([]Row(nil), c.rows...), NotificationURL: c.notifyURL, Consumer: c.consumer,
		Tags: append([]string(nil), c.tags...), Created: c.created,
	}
}

// Cart returns the newest cart of the payment with paymentID (the orderReference).
func (s *Server) Cart(paymentID string) (Cart, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	carts := s.byRef[paymentID]
	if len(carts) == 0 {
		return Cart{}, false
	}
	return carts[len(carts)-1].snapshot(), true
}

// Carts returns every cart of the payment with paymentID, oldest first: those completed or
// replaced (Open false) and the one that can still be checked out, if any. A payment should
// never have more than one open cart: the consumer could complete each as an order.
func (s *Server) Carts(paymentID string) []Cart {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Cart
	for _, c := range s.byRef[paymentID] {
		out = append(out, c.snapshot())
	}
	return out
}

// parseCart validates a cart body. It answers 400 with the first problem found.
func parseCart(body []byte) (*cart, string) {
	m, ok := decodeObject(body)
	if !ok {
		return nil, "The body must be one JSON object."
	}
	c := &cart{}

	loc, ok := m["locale"].(map[string]any)
	if !ok {
		return nil, "locale {language, country} is required."
	}
	lang, _ := loc["language"].(string)
	country, _ := loc["country"].(string)
	l, err := ecster.ParseLocale(lang + "-" + country)
	if err != nil {
		return nil, "locale: " + err.Error()
	}
	c.locale = l
	cc, _ := m["countryCode"].(string)
	if len(cc) != 2 || strings.ToUpper(cc) != cc {
		return nil, "countryCode must be an ISO 3166-1 alpha-2 code in capitals."
	}

	params, ok := m["parameters"].(map[string]any)
	if !ok {
		return nil, "parameters is required."
	}
	for _, name := range []string{"shopTermsUrl", "returnUrl"} {
		if v, present := params[name]; present {
			if s, ok := v.(string); !ok || !absoluteURL(s) {
				return nil, "parameters." + name + " must be an absolute URL."
			}
		}
	}
	if pt, present := params["purchaseType"]; present {
		pto, _ := pt.(map[string]any)
		if t, _ := pto["type"].(string); t != "B2C" && t != "B2B" {
			return nil, "parameters.purchaseType.type must be B2C or B2B."
		}
	}

	body2, ok := m["cart"].(map[string]any)
	if !ok {
		return nil, "cart is required."
	}
	if c.amount, ok = integer(body2["amount"]); !ok || c.amount < 0 {
		return nil, "cart.amount must be a non-negative integer (minor units)."
	}
	c.currency, _ = body2["currency"].(string)
	if _, known := paykit.CurrencyExponent(c.currency); !known || len(c.currency) != 3 {
		return nil, "cart.currency must be an ISO 4217 code."
	}
	c.message, _ = body2["message"].(string)
	rows, _ := body2["rows"].([]any)
	if len(rows) == 0 {
		return nil, "cart.rows must hold at least one row."
	}
	sum := new(big.Rat)
	for i, raw := range rows {
		row, msg := parseRow(raw)
		if msg != "" {
			return nil, fmt.Sprintf("cart.rows[%d]: %s", i, msg)
		}
		q, _ := new(big.Rat).SetString(row.Quantity)
		total := new(big.Rat).Mul(q, new(big.Rat).SetInt64(row.UnitAmount))
		total.Sub(total, new(big.Rat).SetInt64(row.DiscountAmount))
		sum.Add(sum, total)
		c.rows = append(c.rows, row)
	}
	if sum.Cmp(new(big.Rat).SetInt64(c.amount)) != 0 {
		return nil, fmt.Sprintf("The rows add up to %s, not to cart.amount %d.", sum.RatString(), c.amount)
	}

	c.ref, _ = m["orderReference"].(string)
	if c.ref == "" || len(c.ref) > 64 {
		return nil, "orderReference is required, at most 64 characters."
	}
	if v, present := m["notificationUrl"]; present {
		u, ok := v.(string)
		if !ok || !absoluteURL(u) {
			return nil, "notificationUrl must be an absolute URL."
		}
		c.notifyURL = u
	}
	if v, present := m["consumer"]; present {
		b, _ := json.Marshal(v)
		var cons ecster.Consumer
		if err := json.Unmarshal(b, &cons); err != nil {
			return nil, "consumer is not valid."
		}
		if cons.NationalID != "" {
			if err := cons.NationalID.Validate(); err != nil {
				return nil, "consumer.nationalId: " + err.Error()
			}
		}
		c.consumer = &cons
	}
	if v, present := m["tags"]; present {
		list, ok := v.([]any)
		if !ok {
			return nil, "tags must be a list of strings."
		}
		for _, t := range list {
			ts, _ := t.(string)
			if err := ecster.Tag(ts).Validate(); err != nil {
				return nil, "tags: " + err.Error()
			}
			c.tags = append(c.tags, ts)
		}
	}
	return c, ""
}

func parseRow(raw any) (Row, string) {
	m, ok := raw.(map[string]any)
	if !ok {
		return Row{}, "a row is an object."
	}
	var r Row
	if r.Name, _ = m["name"].(string); r.Name == "" {
		return Row{}, "name is required."
	}
	r.PartNumber, _ = m["partNumber"].(string)
	q, ok := m["quantity"].(json.Number)
	if !ok {
		return Row{}, "quantity is required."
	}
	rq, ok := new(big.Rat).SetString(q.String())
	if !ok || rq.Sign() <= 0 || strings.ContainsAny(q.String(), "eE") {
		return Row{}, "quantity must be a positive number."
	}
	r.Quantity = q.String()
	if r.UnitAmount, ok = integer(m["unitAmount"]); !ok || r.UnitAmount < 0 {
		return Row{}, "unitAmount is required: a non-negative integer (minor units, VAT included)."
	}
	vat, ok := integer(m["vatRate"])
	if !ok || vat < 0 || vat > 10000 {
		return Row{}, "vatRate is required: an integer percent × 100 (2500 = 25 %)."
	}
	r.VATRate = int(vat)
	if v, present := m["discountAmount"]; present {
		if r.DiscountAmount, ok = integer(v); !ok || r.DiscountAmount < 0 {
			return Row{}, "discountAmount must be a non-negative integer."
		}
	}
	return r, ""
}

// integer reads a JSON integer exactly: no fraction, no exponent.
func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	return i, err == nil
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

type cartAnswer struct {
	CheckoutCart struct {
		Key string `json:"key"`
	} `json:"checkoutCart"`
}

func cartResponse(key string) response { return bodyResponse(http.StatusCreated, CartBody(key)) }

// createCart serves POST /v1/carts.
func (s *Server) createCart(body []byte) response {
	c, msg := parseCart(body)
	if msg != "" {
		return invalid(msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCartLocked(c)
	return cartResponse(c.key)
}

// updateCart serves PUT /v1/carts/{key}: the old key expires, a new one is answered.
func (s *Server) updateCart(key string, body []byte) response {
	c, msg := parseCart(body)
	if msg != "" {
		return invalid(msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.carts[key]
	if !ok || !old.open {
		return errorResponse(http.StatusNotFound, codeNotFound, "No open cart with that key: it expired, was completed, or was replaced.")
	}
	old.open = false
	s.addCartLocked(c)
	return cartResponse(c.key)
}

func (s *Server) addCartLocked(c *cart) {
	c.key = randomID(32)
	c.open = true
	c.created = s.Now()
	s.carts[c.key] = c
	s.byRef[c.ref] = append(s.byRef[c.ref], c)
	if c.notifyURL != "" {
		s.fake.SetPaymentNotifyURL(c.ref, c.notifyURL)
	}
}
