package entrecard_test

import (
	"math"
	"strings"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

func TestBuyRequestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*entrecard.BuyRequest)
		ok     bool
		field  string // a word the error message must hold
	}{
		{"valid", func(*entrecard.BuyRequest) {}, true, ""},

		{"id empty", func(r *entrecard.BuyRequest) { r.ItemID = "" }, false, "item id"},
		{"id 32 characters", func(r *entrecard.BuyRequest) { r.ItemID = strings.Repeat("a", 32) }, true, ""},
		{"id 33 characters", func(r *entrecard.BuyRequest) { r.ItemID = strings.Repeat("a", 33) }, false, "item id"},
		{"id every allowed character", func(r *entrecard.BuyRequest) { r.ItemID = "AZaz09_-" }, true, ""},
		{"id with a space", func(r *entrecard.BuyRequest) { r.ItemID = "order 42" }, false, "item id"},
		{"id with a dot", func(r *entrecard.BuyRequest) { r.ItemID = "order.42" }, false, "item id"},
		{"id with a non-ASCII digit", func(r *entrecard.BuyRequest) { r.ItemID = "order٤٢" }, false, "item id"},
		{"id with a newline", func(r *entrecard.BuyRequest) { r.ItemID = "order\n" }, false, "item id"},

		{"description empty", func(r *entrecard.BuyRequest) { r.Description = "" }, false, "description"},
		{"description 64 characters", func(r *entrecard.BuyRequest) { r.Description = strings.Repeat("ab, .", 12) + "abcd" }, true, ""},
		{"description 65 characters", func(r *entrecard.BuyRequest) { r.Description = strings.Repeat("a", 65) }, false, "description"},
		{"description every allowed character", func(r *entrecard.BuyRequest) { r.Description = "AZaz09_- .," }, true, ""},
		{"description with an ampersand", func(r *entrecard.BuyRequest) { r.Description = "Mugs & cups" }, false, "description"},
		{"description with an apostrophe", func(r *entrecard.BuyRequest) { r.Description = "Bob's mug" }, false, "description"},
		{"description with an accent", func(r *entrecard.BuyRequest) { r.Description = "Café" }, false, "description"},
		{"description with a tab", func(r *entrecard.BuyRequest) { r.Description = "a\tb" }, false, "description"},

		{"quantity 0", func(r *entrecard.BuyRequest) { r.Quantity = 0 }, false, "quantity"},
		{"quantity negative", func(r *entrecard.BuyRequest) { r.Quantity = -1 }, false, "quantity"},
		{"quantity 1", func(r *entrecard.BuyRequest) { r.Quantity = 1 }, true, ""},

		{"cost 1 (the document wants more than 1)", func(r *entrecard.BuyRequest) { r.Cost = 1 }, false, "cost"},
		{"cost 0", func(r *entrecard.BuyRequest) { r.Cost = 0 }, false, "cost"},
		{"cost negative", func(r *entrecard.BuyRequest) { r.Cost = -5 }, false, "cost"},
		{"cost 2", func(r *entrecard.BuyRequest) { r.Cost = 2 }, true, ""},
		{"total overflows", func(r *entrecard.BuyRequest) { r.Quantity, r.Cost = 3, math.MaxInt64/2 }, false, "overflows"},

		{"notify empty", func(r *entrecard.BuyRequest) { r.NotifyURL = "" }, false, "notify"},
		{"success empty", func(r *entrecard.BuyRequest) { r.SuccessURL = "" }, false, "success"},
		{"cancel empty", func(r *entrecard.BuyRequest) { r.CancelURL = "" }, false, "cancel"},
		{"notify relative", func(r *entrecard.BuyRequest) { r.NotifyURL = "/entrecard/notify" }, false, "notify"},
		{"success without host", func(r *entrecard.BuyRequest) { r.SuccessURL = "https:///thanks" }, false, "success"},
		{"cancel not http", func(r *entrecard.BuyRequest) { r.CancelURL = "ftp://shop.example/cart" }, false, "cancel"},
		{"notify javascript", func(r *entrecard.BuyRequest) { r.NotifyURL = "javascript:alert(1)" }, false, "notify"},
		{"success with a fragment", func(r *entrecard.BuyRequest) { r.SuccessURL = "https://shop.example/thanks#done" }, false, "fragment"},
		{"cancel with a space", func(r *entrecard.BuyRequest) { r.CancelURL = "https://shop.example/my cart" }, false, "cancel"},
		{"notify unparsable", func(r *entrecard.BuyRequest) { r.NotifyURL = "https://shop.example:port/n" }, false, "notify"},
		{"notify with its own query", func(r *entrecard.BuyRequest) { r.NotifyURL = "https://shop.example/n?token=abc&x=%2F" }, true, ""},
		{"notify http on loopback", func(r *entrecard.BuyRequest) { r.NotifyURL = "http://127.0.0.1:8080/n" }, true, ""},
		{"notify holding id", func(r *entrecard.BuyRequest) { r.NotifyURL = "https://shop.example/n?id=42" }, false, `"id"`},
		{"success holding status", func(r *entrecard.BuyRequest) { r.SuccessURL = "https://shop.example/s?a=1&status=ok" }, false, `"status"`},
		{"cancel holding an escaped signature", func(r *entrecard.BuyRequest) { r.CancelURL = "https://shop.example/c?sig%6Eature=1" }, false, `"signature"`},
		{"cancel holding total after a second question mark", func(r *entrecard.BuyRequest) { r.CancelURL = "https://shop.example/c?a=1?total=5" }, false, `"total"`},
		{"notify holding seller (a link name, not a result name)", func(r *entrecard.BuyRequest) { r.NotifyURL = "https://shop.example/n?seller=me" }, true, ""},
	}
	c := newClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validBuy()
			tt.change(&r)
			errValidate := r.Validate()
			link, err := c.BuyURL(r)
			if tt.ok {
				if err != nil || errValidate != nil {
					t.Fatalf("BuyURL: %v; Validate: %v", err, errValidate)
				}
				if link == "" {
					t.Fatal("empty link")
				}
				return
			}
			if link != "" {
				t.Errorf("BuyURL returned %q with an error", link)
			}
			wantKind(t, err, paykit.ErrInvalidRequest)
			wantKind(t, errValidate, paykit.ErrInvalidRequest)
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
			// URLs can carry the merchant's tokens: an error never repeats them.
			for _, u := range []string{r.NotifyURL, r.SuccessURL, r.CancelURL} {
				if len(u) > 20 && strings.Contains(err.Error(), u) {
					t.Errorf("error %q repeats the URL %q", err, u)
				}
			}
		})
	}
}

func TestBuyRequestTotal(t *testing.T) {
	t.Parallel()
	r := validBuy()
	if got := r.Total(); got != 100 {
		t.Errorf("Total = %d, want 100", got)
	}
}
