package ecster

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/transport"
)

// PurchaseType is parameters.purchaseType.type of a cart.
type PurchaseType string

// The purchase types.
const (
	PurchaseB2C PurchaseType = "B2C" // a consumer (the default)
	PurchaseB2B PurchaseType = "B2B" // a business
)

// CartRequest is a checkout cart for POST /v1/carts and PUT /v1/carts/{key}.
type CartRequest struct {
	// OrderReference is the merchant's reference of the order the cart becomes, at most 64
	// characters. paykit's Provider uses the payment id.
	OrderReference string
	// Locale of the checkout, e.g. "sv-SE" (either case); empty: Config.Locale. It gives
	// the body's locale {language, country} and countryCode.
	Locale string
	// ShopTermsURL overrides Config.ShopTermsURL.
	ShopTermsURL string
	// ReturnURL is where the consumer returns after the checkout, if anywhere.
	ReturnURL string
	// PurchaseType is B2C (the default) or B2B.
	PurchaseType PurchaseType
	// Amount is the cart's total in minor units, VAT included; Currency its ISO 4217 code.
	Amount   Amount
	Currency string
	// Message is shown with the cart.
	Message string
	// Rows are the cart's lines; Ecster needs at least one. Their sum (quantity × unit
	// amount − discount) must equal Amount.
	Rows []CartRow
	// NotificationURL is where Ecster sends the order's OENs. With Config.NotifySecret it is
	// sent signed for OrderReference (its own query kept).
	NotificationURL string
	// Consumer is what the merchant knows of the buyer, to prefill the checkout.
	Consumer *Consumer
	// Tags are statistics tags, typed ("product:TV") or untyped ("TV").
	Tags []Tag
}

// CartRow is one line of a cart.
type CartRow struct {
	PartNumber  string // the merchant's article number
	Name        string // required
	Description string
	Quantity    int    // at least 1
	Unit        string // e.g. "st"
	// UnitAmount is the price of one unit in minor units, VAT included.
	UnitAmount Amount
	// VATRate is the VAT in percent × 100: 2500 is 25 %.
	VATRate Percent
	// DiscountAmount is taken off the row's total.
	DiscountAmount Amount
}

// Total is the row's sum: Quantity × UnitAmount − DiscountAmount; ok is false when it
// overflows.
func (r CartRow) Total() (total Amount, ok bool) {
	if r.Quantity < 0 || r.UnitAmount < 0 {
		return 0, false
	}
	line := int64(r.UnitAmount) * int64(r.Quantity)
	if r.UnitAmount != 0 && line/int64(r.UnitAmount) != int64(r.Quantity) {
		return 0, false
	}
	return Amount(line) - r.DiscountAmount, true
}

// Consumer is the buyer as a cart or an order shows it.
type Consumer struct {
	NationalID  NationalID   `json:"nationalId,omitempty"`
	Name        *Name        `json:"name,omitempty"`
	Address     *Address     `json:"address,omitempty"`
	ContactInfo *ContactInfo `json:"contactInfo,omitempty"`
}

// Name is a person's name.
type Name struct {
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

// Address is a postal address.
type Address struct {
	Line1    string `json:"line1,omitempty"`
	Line2    string `json:"line2,omitempty"`
	Zip      string `json:"zip,omitempty"`
	City     string `json:"city,omitempty"`
	Province string `json:"province,omitempty"`
	Country  string `json:"country,omitempty"`
}

// ContactInfo is how to reach a consumer.
type ContactInfo struct {
	Email    string `json:"email,omitempty"`
	Cellular *Phone `json:"cellular,omitempty"`
}

// Phone is a phone number.
type Phone struct {
	Number  string `json:"number,omitempty"`
	Country string `json:"country,omitempty"`
}

// Cart is a created or updated cart: its key goes to Ecster's checkout script in the
// consumer's browser.
type Cart struct {
	Key string
}

// wireCart is the body of POST /v1/carts and PUT /v1/carts/{key}.
type wireCart struct {
	Locale          Locale         `json:"locale"`
	CountryCode     string         `json:"countryCode"`
	Parameters      wireParameters `json:"parameters"`
	Cart            wireCartBody   `json:"cart"`
	OrderReference  string         `json:"orderReference"`
	NotificationURL string         `json:"notificationUrl,omitempty"`
	Consumer        *Consumer      `json:"consumer,omitempty"`
	Tags            []Tag          `json:"tags,omitempty"` // ASSUMPTION: the document names no field
}

type wireParameters struct {
	ShopTermsURL string           `json:"shopTermsUrl,omitempty"`
	ReturnURL    string           `json:"returnUrl,omitempty"`
	PurchaseType wirePurchaseType `json:"purchaseType"`
}

type wirePurchaseType struct {
	Type PurchaseType `json:"type"`
}

type wireCartBody struct {
	Amount   Amount        `json:"amount"`
	Currency string        `json:"currency"`
	Message  string        `json:"message,omitempty"`
	Rows     []wireCartRow `json:"rows"`
}

type wireCartRow struct {
	PartNumber     string  `json:"partNumber,omitempty"`
	Name           string  `json:"name"`
	Description    string  `json:"description,omitempty"`
	Quantity       int     `json:"quantity"`
	Unit           string  `json:"unit,omitempty"`
	UnitAmount     Amount  `json:"unitAmount"`
	VATRate        Percent `json:"vatRate"`
	DiscountAmount Amount  `json:"discountAmount,omitempty"`
}

// body validates r and builds the wire body. Nothing is sent when it fails.
func (c *Client) cartBody(op string, r CartRequest) (*wireCart, error) {
	bad := func(format string, args ...any) (*wireCart, error) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, format, args...)
	}
	if err := checkOrderReference(r.OrderReference); err != nil {
		return bad("%v", err)
	}
	locale := c.locale
	if r.Locale != "" {
		l, err := ParseLocale(r.Locale)
		if err != nil {
			return bad("%v", err)
		}
		locale = l
	}
	if _, ok := paykit.CurrencyExponent(r.Currency); !ok {
		return bad("unknown currency %q", r.Currency)
	}
	if err := r.Amount.Validate(); err != nil {
		return bad("cart %v", err)
	}
	if len(r.Rows) == 0 {
		return bad("a cart needs rows: Ecster takes a VAT rate per row")
	}
	purchase := r.PurchaseType
	switch purchase {
	case "":
		purchase = PurchaseB2C
	case PurchaseB2C, PurchaseB2B:
	default:
		return bad("unknown purchase type %q", purchase)
	}
	rows := make([]wireCartRow, len(r.Rows))
	var sum Amount
	for i, row := range r.Rows {
		switch {
		case row.Name == "":
			return bad("rows[%d]: name is required", i)
		case row.Quantity < 1:
			return bad("rows[%d]: quantity must be at least 1, got %d", i, row.Quantity)
		case row.UnitAmount.Validate() != nil, row.DiscountAmount.Validate() != nil:
			return bad("rows[%d]: amounts must not be negative", i)
		case row.VATRate.Validate() != nil || row.VATRate > 10000:
			return bad("rows[%d]: VAT rate %d is not between 0 and 10000 (percent × 100)", i, row.VATRate)
		}
		total, ok := row.Total()
		if !ok {
			return bad("rows[%d]: quantity × unit amount overflows", i)
		}
		sum += total
		if sum < 0 {
			return bad("rows: the sum overflows")
		}
		rows[i] = wireCartRow(row)
	}
	if sum != r.Amount {
		return bad("rows add up to %d, the cart's amount is %d", sum, r.Amount)
	}
	for i, t := range r.Tags {
		if err := t.Validate(); err != nil {
			return bad("tags[%d]: %v", i, err)
		}
	}
	if r.Consumer != nil && r.Consumer.NationalID != "" {
		id, err := ParseNationalID(string(r.Consumer.NationalID))
		if err != nil {
			return bad("consumer: %v", err)
		}
		cp := *r.Consumer
		cp.NationalID = id
		r.Consumer = &cp
	}
	for name, u := range map[string]string{"ShopTermsURL": r.ShopTermsURL, "ReturnURL": r.ReturnURL, "NotificationURL": r.NotificationURL} {
		if u != "" && !absoluteHTTP(u) {
			// The URL itself stays out of the message: notification URLs may carry a token.
			return bad("%s must be an absolute http(s) URL", name)
		}
	}
	terms := r.ShopTermsURL
	if terms == "" {
		terms = c.cfg.ShopTermsURL
	}
	notify, err := c.signer.Sign(r.NotificationURL, r.OrderReference)
	if err != nil {
		return bad("NotificationURL cannot be signed")
	}
	return &wireCart{
		Locale:      locale,
		CountryCode: locale.Country,
		Parameters: wireParameters{
			ShopTermsURL: terms,
			ReturnURL:    r.ReturnURL,
			PurchaseType: wirePurchaseType{Type: purchase},
		},
		Cart:            wireCartBody{Amount: r.Amount, Currency: r.Currency, Message: r.Message, Rows: rows},
		OrderReference:  r.OrderReference,
		NotificationURL: notify,
		Consumer:        r.Consumer,
		Tags:            r.Tags,
	}, nil
}

type wireCartAnswer struct {
	CheckoutCart struct {
		Key string `json:"key"`
	} `json:"checkoutCart"`
}

// CreateCart creates a checkout cart (POST /v1/carts) and returns its key, for Ecster's
// checkout script. A cart charges no one, so it is retried like a GET after a failure that
// may have reached Ecster: the worst case is a second cart whose key nobody ever saw.
func (c *Client) CreateCart(ctx context.Context, r CartRequest) (*Cart, error) {
	return c.sendCart(ctx, "create cart", "POST", "/v1/carts", "/v1/carts", r)
}

// UpdateCart replaces the cart with key (PUT /v1/carts/{key}) and returns the new key:
// Ecster expires the old one, which can no longer be used.
func (c *Client) UpdateCart(ctx context.Context, key string, r CartRequest) (*Cart, error) {
	const op = "update cart"
	if err := checkPathID("the cart key", key); err != nil {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	return c.sendCart(ctx, op, "PUT", "/v1/carts/"+url.PathEscape(key), "/v1/carts/{key}", r)
}

func (c *Client) sendCart(ctx context.Context, op, method, path, template string, r CartRequest) (*Cart, error) {
	body, err := c.cartBody(op, r)
	if err != nil {
		return nil, err
	}
	var out wireCartAnswer
	_, err = c.http.Do(ctx, transport.Request{
		Op: op, PaymentID: r.OrderReference, Method: method, Path: path, URLTemplate: template, Body: body, Result: &out,
		// A cart is an unpaid basket: sending it twice charges no one. A repeated update
		// whose first attempt went through finds its key expired and fails; CreatePayment
		// then makes a new cart.
		Repeatable: true,
	})
	if err != nil {
		return nil, err
	}
	if out.CheckoutCart.Key == "" {
		return nil, perr.Errorf(op, paykit.ErrUnavailable, "the answer holds no cart key")
	}
	return &Cart{Key: out.CheckoutCart.Key}, nil
}

// checkOrderReference applies the id rule (internal/ids.Check: not empty, not "." or "..",
// no control characters, valid UTF-8) and Ecster's own limit of 64 characters to a payment
// id, which goes into a URL query (and, through the checks of Ecster's own ids, no path
// ever carries a dot-segment).
func checkOrderReference(ref string) error {
	if err := ids.Check(ref); err != nil {
		return errMsg("orderReference: " + err.Error())
	}
	if len(ref) > MaxOrderReference {
		return errMsg("orderReference is longer than 64 characters")
	}
	return nil
}

// checkPathID applies the id rule to an id of Ecster's (an order id, a cart key) before it
// goes into a URL path: "." or ".." would be a dot-segment that a normalising proxy
// resolves to another endpoint.
func checkPathID(what, id string) error {
	if err := ids.Check(id); err != nil {
		return errMsg(what + ": " + strings.Replace(err.Error(), "payment id", "id", 1))
	}
	return nil
}

type errMsg string

func (e errMsg) Error() string { return string(e) }

func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// maxRememberedCarts bounds the carts a Client remembers: about 230 bytes each with a
// 36-character id and a 32-character key (measured with runtime.MemStats, the map's own cost
// included), so about 2.3 MB at the bound.
const maxRememberedCarts = 10000

// cartKeys remembers the latest cart per payment id, up to a bound, for two things. A
// repeated CreatePayment updates that cart (expiring the key the first call handed out)
// instead of opening a second cart that the consumer could complete as a second order. And
// GetPayment, while the consumer has not completed the checkout (Ecster knows no order, and
// has no way to read a cart), answers the payment as CreatePayment did: pending, with the
// cart key in its Action. When the bound is reached the oldest half is forgotten; a
// forgotten payment gets a new cart, and reads as not found until its order exists, as
// after a restart or on another replica.
type cartKeys struct {
	mu    sync.Mutex
	max   int
	keys  map[string]cartEntry
	clock uint64
}

// cartEntry is what CreatePayment made for a payment id: the cart's key, its amount, and
// when it was made.
type cartEntry struct {
	key     string
	amount  paykit.Money
	created time.Time
	at      uint64
}

func newCartKeys(n int) *cartKeys { return &cartKeys{max: n, keys: make(map[string]cartEntry)} }

func (k *cartKeys) get(id string) (cartEntry, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.keys[id]
	return e, ok
}

func (k *cartKeys) put(id string, e cartEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.clock++
	if _, ok := k.keys[id]; !ok && len(k.keys) >= k.max {
		cutoff := k.clock - uint64(k.max/2)
		for id, e := range k.keys {
			if e.at < cutoff {
				delete(k.keys, id)
			}
		}
	}
	e.at = k.clock
	k.keys[id] = e
}

func (k *cartKeys) forget(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, id)
}
