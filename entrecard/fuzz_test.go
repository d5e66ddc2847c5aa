package entrecard_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

// The fuzz targets check properties against independent references: the document's regular
// expressions, url.ParseQuery and crypto/sha1.

var (
	idPattern          = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	descriptionPattern = regexp.MustCompile(`^[A-Za-z0-9_\- .,]{1,64}$`)
)

func FuzzVerifyResult(f *testing.F) {
	c := newClient(f)
	good := c.ResultQuery(entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.ResultComplete})
	for _, seed := range []string{
		good,
		"seller_id=1001&id=order-42&total=100&transaction_id=100001&status=complete&signature=670ec49743b4f01d19a4462d32c97a229148d358",
		strings.Replace(good, "total=100", "total=101", 1),
		good + "&status=failed",
		"order=42&lang=sv&" + good,
		"seller_id=1001&id=&total=&transaction_id=&status=&signature=",
		"signature=" + strings.Repeat("0", 40),
		"",
		"%zz=1&" + good,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // what parses is verified; a partial parse is fine
		res, err := c.VerifyResult(v)
		if err != nil {
			if res != nil {
				t.Fatal("a result with an error")
			}
			if !errors.Is(err, paykit.ErrInvalidSignature) && !errors.Is(err, paykit.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidSignature or ErrInvalidRequest", err)
			}
			if sig := v.Get("signature"); len(sig) >= 16 && strings.Contains(err.Error(), sig) {
				t.Fatalf("error %q holds the signature", err)
			}
			return
		}
		// Accepted: the signature is SHA-1 over exactly the received values plus the secret,
		// and the fields are what the received values say.
		text := "seller_id=" + url.QueryEscape(v.Get("seller_id")) + "&id=" + url.QueryEscape(v.Get("id")) +
			"&total=" + url.QueryEscape(v.Get("total")) + "&transaction_id=" + url.QueryEscape(v.Get("transaction_id")) +
			"&status=" + url.QueryEscape(v.Get("status"))
		sum := sha1.Sum([]byte(text + testSecret))
		if !strings.EqualFold(v.Get("signature"), hex.EncodeToString(sum[:])) {
			t.Fatalf("accepted %q whose signature is not SHA-1 of %q + secret", raw, text)
		}
		if res.SellerID != testSeller || res.ID != v.Get("id") || res.TransactionID != v.Get("transaction_id") || string(res.Status) != v.Get("status") || !idPattern.MatchString(res.ID) {
			t.Fatalf("result %+v does not match %q", res, raw)
		}
	})
}

// FuzzResultRoundTrip signs arbitrary fields and checks that exactly the valid ones verify,
// and that changing any one value breaks the signature.
func FuzzResultRoundTrip(f *testing.F) {
	c := newClient(f)
	f.Add("order-42", int64(100), "100001", "complete", "id")
	f.Add("a b", int64(5), "1", "failed", "total")
	f.Add(strings.Repeat("x", 32), int64(999999999999999999), "18446744073709551615", "escrow", "status")
	f.Add("x", int64(-1), "", "", "transaction_id")
	f.Fuzz(func(t *testing.T, id string, total int64, txn, status, tamper string) {
		r := entrecard.Result{SellerID: testSeller, ID: id, Total: total, TransactionID: txn, Status: entrecard.ResultStatus(status)}
		v, err := url.ParseQuery(c.ResultQuery(r))
		if err != nil {
			t.Fatalf("ResultQuery does not parse: %v", err)
		}
		got, err := c.VerifyResult(v)
		valid := idPattern.MatchString(id) && total >= 0 && total < 1e18 && regexp.MustCompile(`^[0-9]{1,20}$`).MatchString(txn) &&
			regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`).MatchString(status)
		switch {
		case valid && err != nil:
			t.Fatalf("VerifyResult(%+v): %v", r, err)
		case valid && *got != r:
			t.Fatalf("round trip %+v -> %+v", r, *got)
		case !valid && err == nil:
			t.Fatalf("VerifyResult accepted %+v", r)
		case !valid && !errors.Is(err, paykit.ErrInvalidRequest):
			t.Fatalf("a signed but invalid result: %v, want ErrInvalidRequest", err)
		}
		for _, k := range []string{"seller_id", "id", "total", "transaction_id", "status"} {
			if k != tamper && !strings.HasPrefix(tamper, k) {
				continue
			}
			w := url.Values{}
			for kk, vv := range v {
				w[kk] = append([]string(nil), vv...)
			}
			w.Set(k, w.Get(k)+"0")
			if _, err := c.VerifyResult(w); !errors.Is(err, paykit.ErrInvalidSignature) {
				t.Fatalf("changing %s: err = %v, want ErrInvalidSignature", k, err)
			}
		}
	})
}

func FuzzParseRedirect(f *testing.F) {
	c := newClient(f)
	good := c.ResultQuery(entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.ResultComplete})
	for _, seed := range []string{
		"https://shop.example/thanks?order=42&" + good,
		"https://shop.example/thanks?order=42?" + good,
		"https://shop.example/cart?order=42",
		"https://shop.example/cart",
		"https://shop.example/cart?order=42&id=order-42&status=cancelled",
		"https://shop.example/thanks?" + good + "#frag",
		"https://shop.example/thanks?" + strings.ReplaceAll(good, "&", "?"),
		"https://shop.example/thanks?%zz&" + good,
		"https://shop.example/thanks?" + strings.Replace(good, "status=complete", "status=%zz", 1),
		"://",
		"://x?" + good,
		"https://shop.example/thanks?&&??==&=x&x=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		rd, err := c.ParseRedirect(context.Background(), raw)
		if err != nil {
			if rd != nil {
				t.Fatal("a redirect with an error")
			}
			var pe *paykit.Error
			if !errors.As(err, &pe) || pe.Provider != "entrecard" {
				t.Fatalf("err = %#v, want a *paykit.Error", err)
			}
			if _, after, ok := strings.Cut(raw, "signature="); ok {
				if sig, _, _ := strings.Cut(after, "&"); len(sig) >= 16 && strings.Contains(err.Error(), sig) {
					t.Fatalf("error %q holds the signature", err)
				}
			}
			return
		}
		for k := range rd.Params {
			switch k {
			case "seller_id", "id", "total", "transaction_id", "status", "signature":
				t.Fatalf("the merchant's params hold the result's %q", k)
			}
		}
		if rd.Result == nil {
			if rd.Payment != nil {
				t.Fatal("a payment without a result")
			}
			return
		}
		if rd.Result.SellerID != testSeller || rd.Payment == nil || rd.Payment.ID != rd.Result.ID {
			t.Fatalf("redirect %+v", rd)
		}
	})
}

func FuzzBuyURL(f *testing.F) {
	c := newClient(f)
	f.Add("order-42", "Two mugs, blue", 2, int64(50), "https://shop.example/n?order=42&lang=sv", "https://shop.example/t?order=42", "https://shop.example/c?")
	f.Add("", "", 0, int64(1), "", "", "")
	f.Add("a b", "Café", 1, int64(2), "http://x/#f", "http://x/?id=1", "mailto:x")
	f.Add("A_b-9", "Tea. Cake, scones - 2 x", 1, int64(2), "http://127.0.0.1:8080/n", "http://127.0.0.1:8080/s?x=1&y=a%20b~", "http://h/c?a=1?b=2")
	f.Fuzz(func(t *testing.T, id, desc string, quantity int, cost int64, notify, success, cancel string) {
		req := entrecard.BuyRequest{ItemID: id, Description: desc, Quantity: quantity, Cost: cost, NotifyURL: notify, SuccessURL: success, CancelURL: cancel}
		link, err := c.BuyURL(req)
		fieldsOK := idPattern.MatchString(id) && descriptionPattern.MatchString(desc) && quantity >= 1 && cost > 1
		if err != nil {
			if !errors.Is(err, paykit.ErrInvalidRequest) || link != "" {
				t.Fatalf("BuyURL: %q, %v", link, err)
			}
			return
		}
		if !fieldsOK {
			t.Fatalf("BuyURL accepted %+v", req)
		}
		// The link decodes back to exactly its fields, in the documented order, and its
		// signature is SHA-1 of the text before "&signature=" plus the secret.
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("the link %q does not parse: %v", link, err)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("the link's query: %v", err)
		}
		for k, want := range map[string]string{"seller": testSeller, "id": id, "description": desc, "notify": notify, "success": success, "cancel": cancel} {
			if got := q[k]; len(got) != 1 || got[0] != want {
				t.Fatalf("%s decodes to %q, want %q", k, got, want)
			}
		}
		text, sig, ok := strings.Cut(u.RawQuery, "&signature=")
		sum := sha1.Sum([]byte(text + testSecret))
		if !ok || sig != hex.EncodeToString(sum[:]) {
			t.Fatalf("signature %q is not SHA-1 of %q + secret", sig, text)
		}
		var keys []string
		for _, kv := range strings.Split(text, "&") {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		if strings.Join(keys, ",") != "seller,id,description,quantity,cost,notify,success,cancel" {
			t.Fatalf("parameter order %v", keys)
		}
		// Each URL takes an appended result unharmed: after appending, the result reads back.
		for _, base := range []string{notify, success, cancel} {
			rq := c.ResultQuery(entrecard.Result{SellerID: testSeller, ID: id, Total: req.Total(), TransactionID: "1", Status: entrecard.ResultComplete})
			sep := "?"
			if strings.Contains(base, "?") {
				sep = "&"
			}
			rd, err := newClient(t).ParseRedirect(context.Background(), base+sep+rq)
			if err != nil || rd.Result == nil || rd.Result.ID != id {
				t.Fatalf("a result appended to %q does not read back: %+v, %v", base, rd, err)
			}
		}
	})
}
