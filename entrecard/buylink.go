package entrecard

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard/internal/buylinks"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/signature"
)

// Limits of the buy link's fields, from Entrecard's document.
const (
	MaxItemIDLen      = 32 // item id: [A-Za-z0-9_-], 1 to 32 characters
	MaxDescriptionLen = 64 // description: [A-Za-z0-9_- .,], 1 to 64 characters
	MinQuantity       = 1  // quantity: an integer >= 1
	MinCost           = 2  // cost: an integer number of credits > 1
)

// BuyRequest is what a "Buy now" link asks the buyer to pay: Quantity units of one item at
// Cost credits each.
type BuyRequest struct {
	// ItemID is the "id" parameter, 1 to 32 of [A-Za-z0-9_-]. It comes back as "id" in the
	// result; paykit's adapter uses the merchant's payment id.
	ItemID string
	// Description is shown to the buyer: 1 to 64 of [A-Za-z0-9_-], space, '.' and ','.
	Description string
	// Quantity is the number of units, at least 1.
	Quantity int
	// Cost is the price of one unit in credits; Entrecard wants more than 1.
	Cost int64
	// NotifyURL receives the result again and again until it answers 200. SuccessURL and
	// CancelURL are where the buyer's browser returns. Each must be an absolute http(s) URL
	// without a fragment; it may carry its own query, but none of the result's parameter
	// names (seller_id, id, total, transaction_id, status, signature), because the result is
	// appended to it.
	NotifyURL, SuccessURL, CancelURL string
}

// Total returns Quantity × Cost, the total the result must carry. It is meaningful only for
// a request that passes Validate, which refuses totals that overflow.
func (r BuyRequest) Total() int64 { return int64(r.Quantity) * r.Cost }

// Validate checks every field against Entrecard's rules; the error matches
// paykit.ErrInvalidRequest and names the field.
func (r BuyRequest) Validate() error { return r.validate("validate buy request") }

func (r BuyRequest) validate(op string) error {
	// paykit's id rule for every id that goes into a URL, then Entrecard's own, which is
	// stricter: [A-Za-z0-9_-]{1,32} has no dot-segment, control character or non-ASCII.
	if err := ids.Check(r.ItemID); err != nil {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "item id: %v", err)
	}
	if !validItemID(r.ItemID) {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "item id must be 1 to %d characters of A-Z, a-z, 0-9, '_' and '-'", MaxItemIDLen)
	}
	if !validDescription(r.Description) {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "description must be 1 to %d characters of A-Z, a-z, 0-9, '_', '-', space, '.' and ','", MaxDescriptionLen)
	}
	if r.Quantity < MinQuantity {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "quantity must be at least %d, got %d", MinQuantity, r.Quantity)
	}
	if r.Cost < MinCost {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "cost must be more than 1 credit, got %d", r.Cost)
	}
	if r.Cost > math.MaxInt64/int64(r.Quantity) {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "quantity × cost overflows")
	}
	for _, u := range [...]struct{ name, v string }{{"notify", r.NotifyURL}, {"success", r.SuccessURL}, {"cancel", r.CancelURL}} {
		if msg := checkReturnURL(u.v); msg != "" {
			// The URL itself is not quoted: merchants put tokens in their notify URLs.
			return perr.Errorf(op, paykit.ErrInvalidRequest, "%s URL %s", u.name, msg)
		}
	}
	return nil
}

// BuyURL validates req and returns the signed "Buy now" link:
//
//	{BaseURL}/buy?seller=…&id=…&description=…&quantity=…&cost=…&notify=…&success=…&cancel=…&signature=…
//
// Every value is encoded with url.QueryEscape (a space is '+'); the signature is the
// lowercase hex SHA-1 of the part after '?' up to, not including, "&signature=", followed
// directly by the secret. BuyURL records nothing: use CreatePayment for a payment that
// GetPayment and the amount check know about.
func (c *Client) BuyURL(req BuyRequest) (string, error) {
	link, err := c.buyURL("build buy link", req)
	if err == nil {
		c.built(req.ItemID, link)
	}
	return link, err
}

// built tells an entrecardtest fake in this process, if one serves the link's host, that a
// link was built, so that its Pay can play the buyer opening it (Entrecard's real site hears
// of a link only when the buyer opens it). Without such a fake it costs one atomic load.
func (c *Client) built(itemID, link string) { buylinks.Built(c.host, itemID, link) }

func (c *Client) buyURL(op string, req BuyRequest) (string, error) {
	if err := req.validate(op); err != nil {
		return "", err
	}
	if c.secret() == "" {
		return "", perr.Errorf(op, paykit.ErrInvalidRequest, "the Secret is not configured (a Client not made by New): no link can be signed")
	}
	msg := buyMessage(c.SellerID(), req)
	return c.BaseURL() + "/buy?" + msg + "&signature=" + c.sign(msg), nil
}

// buyMessage is the signed part of a buy link, in the documented parameter order. The order
// is written out rather than taken from url.Values.Encode, which sorts keys.
func buyMessage(seller string, r BuyRequest) string {
	var b strings.Builder
	b.Grow(256)
	pairs := [...][2]string{
		{"seller", seller},
		{"id", r.ItemID},
		{"description", r.Description},
		{"quantity", strconv.Itoa(r.Quantity)},
		{"cost", strconv.FormatInt(r.Cost, 10)},
		{"notify", r.NotifyURL},
		{"success", r.SuccessURL},
		{"cancel", r.CancelURL},
	}
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[1]))
	}
	return b.String()
}

// sign is the lowercase hex SHA-1 of msg followed directly by the secret.
func (c *Client) sign(msg string) string {
	return signature.SHA1Hex([]byte(msg + c.secret()))
}

// verify reports whether sig signs msg, comparing in constant time. Without a secret nothing
// verifies: the SHA-1 of the message alone is a signature anyone can make.
func (c *Client) verify(msg, sig string) bool {
	secret := c.secret()
	if secret == "" {
		return false
	}
	return signature.VerifySHA1Hex([]byte(msg+secret), sig)
}

func validItemID(s string) bool {
	if len(s) < 1 || len(s) > MaxItemIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIDByte(s[i]) {
			return false
		}
	}
	return true
}

func validDescription(s string) bool {
	if len(s) < 1 || len(s) > MaxDescriptionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !isIDByte(b) && b != ' ' && b != '.' && b != ',' {
			return false
		}
	}
	return true
}

// isIDByte is the document's [A-Za-z_\-\d], with \d read as ASCII digits only.
func isIDByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-'
}

// checkReturnURL says what is wrong with a notify, success or cancel URL, or "" when nothing.
func checkReturnURL(raw string) string {
	if raw == "" {
		return "is required"
	}
	if strings.ContainsFunc(raw, isControlOrSpace) {
		return "holds a space or a control character"
	}
	if strings.Contains(raw, "#") {
		// The result is appended to the URL; behind a fragment it would never reach the server.
		return "must not have a fragment"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http(s) URL"
	}
	for _, kv := range splitQuery(u.RawQuery) {
		if k, ok := unescapeKey(kv); ok && isResultField(k) {
			return "must not use the result's parameter name " + strconv.Quote(k) + " in its query"
		}
	}
	return ""
}
