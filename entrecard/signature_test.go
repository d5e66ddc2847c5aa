package entrecard_test

import (
	"crypto/sha1"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

// The expected values were computed outside Go (Python's quote_plus and hashlib.sha1), so the
// vectors check the algorithm, not this package against itself.

func TestBuyURLVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		seller, secret string
		req            entrecard.BuyRequest
		want           string
	}{
		{
			name:   "spaces, commas and URLs with their own query",
			seller: "1001", secret: "s3cr3t",
			req: validBuy(),
			want: "http://entrecard.com/uapi/1/buy?seller=1001&id=order-42&description=Two+mugs%2C+blue&quantity=2&cost=50" +
				"&notify=https%3A%2F%2Fshop.example%2Fentrecard%2Fnotify%3Forder%3D42%26lang%3Dsv" +
				"&success=https%3A%2F%2Fshop.example%2Fthanks%3Forder%3D42&cancel=https%3A%2F%2Fshop.example%2Fcart%3Forder%3D42" +
				"&signature=273cbd948e81145809cdeef5d6fb0e8c21e460d7",
		},
		{
			name:   "every description character, escapes inside a URL, an empty query, a secret with a space",
			seller: "1001", secret: "another secret",
			req: entrecard.BuyRequest{
				ItemID: "A_b-9", Description: "Tea. Cake, scones - 2 x", Quantity: 1, Cost: 2,
				NotifyURL: "http://127.0.0.1:8080/n", SuccessURL: "http://127.0.0.1:8080/s?x=1&y=a%20b~", CancelURL: "http://127.0.0.1:8080/c?",
			},
			want: "http://entrecard.com/uapi/1/buy?seller=1001&id=A_b-9&description=Tea.+Cake%2C+scones+-+2+x&quantity=1&cost=2" +
				"&notify=http%3A%2F%2F127.0.0.1%3A8080%2Fn&success=http%3A%2F%2F127.0.0.1%3A8080%2Fs%3Fx%3D1%26y%3Da%2520b~" +
				"&cancel=http%3A%2F%2F127.0.0.1%3A8080%2Fc%3F&signature=5e3ba55626a4704cca702fc5f5804f50d0cc581e",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := entrecard.New(entrecard.Config{SellerID: tt.seller, Secret: tt.secret})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.BuyURL(tt.req)
			if err != nil {
				t.Fatalf("BuyURL: %v", err)
			}
			if got != tt.want {
				t.Errorf("BuyURL =\n%s\nwant\n%s", got, tt.want)
			}
			// A link decodes back to exactly the fields it was made of.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			for k, v := range map[string]string{"id": tt.req.ItemID, "description": tt.req.Description, "notify": tt.req.NotifyURL, "success": tt.req.SuccessURL, "cancel": tt.req.CancelURL} {
				if q.Get(k) != v {
					t.Errorf("the link's %s decodes to %q, want %q", k, q.Get(k), v)
				}
			}
		})
	}
}

func TestBuyURLBase(t *testing.T) {
	t.Parallel()
	tests := []struct{ base, wantPrefix string }{
		{"", "http://entrecard.com/uapi/1/buy?seller="},
		{"http://127.0.0.1:9999", "http://127.0.0.1:9999/buy?seller="},
		{"https://pay.example/uapi/1/", "https://pay.example/uapi/1/buy?seller="},
	}
	for _, tt := range tests {
		c, err := entrecard.New(entrecard.Config{SellerID: testSeller, Secret: testSecret, BaseURL: tt.base})
		if err != nil {
			t.Fatalf("New(BaseURL %q): %v", tt.base, err)
		}
		got, err := c.BuyURL(validBuy())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, tt.wantPrefix) {
			t.Errorf("BaseURL %q: link %q, want prefix %q", tt.base, got, tt.wantPrefix)
		}
	}
}

func TestSignVectors(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	tests := []struct {
		r        entrecard.Result
		wantSig  string
		wantText string
	}{
		{
			r:        entrecard.Result{SellerID: "1001", ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.ResultComplete},
			wantSig:  "670ec49743b4f01d19a4462d32c97a229148d358",
			wantText: "seller_id=1001&id=order-42&total=100&transaction_id=100001&status=complete",
		},
		{
			r:        entrecard.Result{SellerID: "1001", ID: "order-42", Total: 100, TransactionID: "100002", Status: entrecard.ResultEscrow},
			wantSig:  "5dede2fc1dcef1eaf80605b8c7d567a0eb84dfde",
			wantText: "seller_id=1001&id=order-42&total=100&transaction_id=100002&status=escrow",
		},
	}
	for _, tt := range tests {
		if got := c.Sign(tt.r); got != tt.wantSig {
			t.Errorf("Sign(%+v) = %s, want %s", tt.r, got, tt.wantSig)
		}
		wantQuery := tt.wantText + "&signature=" + tt.wantSig
		if got := c.ResultQuery(tt.r); got != wantQuery {
			t.Errorf("ResultQuery = %s, want %s", got, wantQuery)
		}
		got, err := c.VerifyResult(mustQuery(t, wantQuery))
		if err != nil {
			t.Fatalf("VerifyResult(%s): %v", wantQuery, err)
		}
		if *got != tt.r {
			t.Errorf("VerifyResult = %+v, want %+v", *got, tt.r)
		}
	}
}

func TestVerifyResultTampered(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	good := "seller_id=1001&id=order-42&total=100&transaction_id=100001&status=complete&signature=670ec49743b4f01d19a4462d32c97a229148d358"
	tests := []struct {
		name   string
		change func(url.Values)
	}{
		{"seller_id", func(v url.Values) { v.Set("seller_id", "1002") }},
		{"id", func(v url.Values) { v.Set("id", "order-43") }},
		{"total", func(v url.Values) { v.Set("total", "1000") }},
		{"total with a leading zero", func(v url.Values) { v.Set("total", "0100") }},
		{"transaction_id", func(v url.Values) { v.Set("transaction_id", "100002") }},
		{"status", func(v url.Values) { v.Set("status", "escrow") }},
		{"status from failed wording", func(v url.Values) { v.Set("status", "Complete") }},
		{"signature", func(v url.Values) { v.Set("signature", "670ec49743b4f01d19a4462d32c97a229148d359") }},
		{"signature truncated", func(v url.Values) { v.Set("signature", "670ec49743b4f01d19a4462d32c97a229148d3") }},
		{"signature not hex", func(v url.Values) { v.Set("signature", "zz0ec49743b4f01d19a4462d32c97a229148d358") }},
		{"signature missing", func(v url.Values) { v.Del("signature") }},
		{"signature empty", func(v url.Values) { v.Set("signature", "") }},
		{"id removed", func(v url.Values) { v.Del("id") }},
		{"status removed", func(v url.Values) { v.Del("status") }},
		{"everything removed", func(v url.Values) { clear(v) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := mustQuery(t, good)
			tt.change(v)
			res, err := c.VerifyResult(v)
			if res != nil {
				t.Errorf("VerifyResult returned %+v for a tampered result", res)
			}
			wantKind(t, err, paykit.ErrInvalidSignature)
			if strings.Contains(err.Error(), "670ec497") || (v.Get("signature") != "" && strings.Contains(err.Error(), v.Get("signature"))) {
				t.Errorf("error text %q holds a signature", err)
			}
		})
	}
	// Untouched, it verifies; uppercase hex is the same signature.
	if _, err := c.VerifyResult(mustQuery(t, good)); err != nil {
		t.Fatalf("the untampered result: %v", err)
	}
	if _, err := c.VerifyResult(mustQuery(t, strings.Replace(good, "670ec49743b4f01d19a4462d32c97a229148d358", "670EC49743B4F01D19A4462D32C97A229148D358", 1))); err != nil {
		t.Fatalf("uppercase hex: %v", err)
	}
}

func TestVerifyResultOtherSeller(t *testing.T) {
	t.Parallel()
	// A result correctly signed with our secret but naming another seller is still refused.
	other, err := entrecard.New(entrecard.Config{SellerID: "2002", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	q := other.ResultQuery(entrecard.Result{SellerID: "2002", ID: "order-42", Total: 100, TransactionID: "7", Status: entrecard.ResultComplete})
	_, err = newClient(t).VerifyResult(mustQuery(t, q))
	wantKind(t, err, paykit.ErrInvalidSignature)
}

func TestVerifyResultSignedButUnreadable(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	tests := []struct {
		name string
		r    entrecard.Result
		raw  string // a raw query instead, when r cannot express it
	}{
		{name: "id with a space", r: entrecard.Result{SellerID: testSeller, ID: "order 42", Total: 100, TransactionID: "1", Status: entrecard.ResultComplete}},
		{name: "id too long", r: entrecard.Result{SellerID: testSeller, ID: strings.Repeat("a", 33), Total: 100, TransactionID: "1", Status: entrecard.ResultComplete}},
		{name: "negative total", r: entrecard.Result{SellerID: testSeller, ID: "x", Total: -100, TransactionID: "1", Status: entrecard.ResultComplete}},
		{name: "transaction id not a number", r: entrecard.Result{SellerID: testSeller, ID: "x", Total: 100, TransactionID: "t-1", Status: entrecard.ResultComplete}},
		{name: "transaction id empty", r: entrecard.Result{SellerID: testSeller, ID: "x", Total: 100, TransactionID: "", Status: entrecard.ResultComplete}},
		{name: "status empty", r: entrecard.Result{SellerID: testSeller, ID: "x", Total: 100, TransactionID: "1", Status: ""}},
		{name: "status with a space", r: entrecard.Result{SellerID: testSeller, ID: "x", Total: 100, TransactionID: "1", Status: "not paid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.VerifyResult(mustQuery(t, c.ResultQuery(tt.r)))
			wantKind(t, err, paykit.ErrInvalidRequest)
		})
	}
	t.Run("total not a number", func(t *testing.T) {
		t.Parallel()
		text := "seller_id=1001&id=x&total=1e3&transaction_id=1&status=complete"
		sig := signText(text)
		_, err := c.VerifyResult(mustQuery(t, text+"&signature="+sig))
		wantKind(t, err, paykit.ErrInvalidRequest)
	})
	t.Run("a parameter twice", func(t *testing.T) {
		t.Parallel()
		q := c.ResultQuery(entrecard.Result{SellerID: testSeller, ID: "x", Total: 100, TransactionID: "1", Status: entrecard.ResultComplete})
		_, err := c.VerifyResult(mustQuery(t, q+"&status=failed"))
		wantKind(t, err, paykit.ErrInvalidRequest)
	})
}

func TestVerifyResultUnknownStatus(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	r := entrecard.Result{SellerID: testSeller, ID: "x", Total: 100, TransactionID: "1", Status: "refunded"}
	got, err := c.VerifyResult(mustQuery(t, c.ResultQuery(r)))
	if err != nil {
		t.Fatalf("an unknown status word is refused: %v", err)
	}
	if got.Status != "refunded" || got.Status.PaykitStatus() != paykit.StatusUnknown {
		t.Errorf("status %q maps to %q, want it kept and StatusUnknown", got.Status, got.Status.PaykitStatus())
	}
}

// signText signs text as Entrecard does, with crypto/sha1 directly rather than the package.
func signText(text string) string {
	sum := sha1.Sum([]byte(text + testSecret))
	return hex.EncodeToString(sum[:])
}
