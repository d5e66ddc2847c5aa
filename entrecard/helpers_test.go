package entrecard_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

const (
	testSeller = "1001"
	testSecret = "s3cr3t"
)

// newClient returns a client for testSeller with a fresh in-memory store.
func newClient(t testing.TB) *entrecard.Client {
	t.Helper()
	c, err := entrecard.New(entrecard.Config{SellerID: testSeller, Secret: testSecret})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// validBuy is a buy request every check accepts; tests change one field at a time.
func validBuy() entrecard.BuyRequest {
	return entrecard.BuyRequest{
		ItemID:      "order-42",
		Description: "Two mugs, blue",
		Quantity:    2,
		Cost:        50,
		NotifyURL:   "https://shop.example/entrecard/notify?order=42&lang=sv",
		SuccessURL:  "https://shop.example/thanks?order=42",
		CancelURL:   "https://shop.example/cart?order=42",
	}
}

// mustQuery parses a raw query or fails the test.
func mustQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return v
}

// wantKind fails the test unless err is a *paykit.Error of provider entrecard matching kind.
func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want one matching %v", err, kind)
	}
	var pe *paykit.Error
	if !errors.As(err, &pe) || pe.Provider != entrecard.ProviderName || pe.Op == "" {
		t.Fatalf("err = %#v, want a *paykit.Error with Provider %q and an Op", err, entrecard.ProviderName)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error text %q holds the secret", err)
	}
}
