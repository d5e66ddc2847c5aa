package entrecard_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  entrecard.Config
		opts []paykit.Option
		ok   bool
	}{
		{"minimal", entrecard.Config{SellerID: "1", Secret: "x"}, nil, true},
		{"no seller", entrecard.Config{Secret: "x"}, nil, false},
		{"no secret", entrecard.Config{SellerID: "1"}, nil, false},
		{"seller with a space", entrecard.Config{SellerID: "1 2", Secret: "x"}, nil, false},
		{"http base elsewhere (never called, so allowed)", entrecard.Config{SellerID: "1", Secret: "x", BaseURL: "http://pay.example/uapi/1"}, nil, true},
		{"relative base", entrecard.Config{SellerID: "1", Secret: "x", BaseURL: "/uapi/1"}, nil, false},
		{"base with a query", entrecard.Config{SellerID: "1", Secret: "x", BaseURL: "http://pay.example/?a=1"}, nil, false},
		{"base with a fragment", entrecard.Config{SellerID: "1", Secret: "x", BaseURL: "http://pay.example/#a"}, nil, false},
		{"base not http", entrecard.Config{SellerID: "1", Secret: "x", BaseURL: "ftp://pay.example"}, nil, false},
		{"bad option", entrecard.Config{SellerID: "1", Secret: "x"}, []paykit.Option{paykit.WithTimeout(-1)}, false},
		{"good options", entrecard.Config{SellerID: "1", Secret: "x"}, []paykit.Option{paykit.WithTimeout(1), paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 1})}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := entrecard.New(tt.cfg, tt.opts...)
			if tt.ok {
				if err != nil || c == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if c != nil {
				t.Errorf("New returned a client with an error")
			}
			wantKind(t, err, paykit.ErrInvalidRequest)
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	if c.BaseURL() != "http://entrecard.com/uapi/1" || entrecard.DefaultBaseURL != "http://entrecard.com/uapi/1" {
		t.Errorf("BaseURL = %q, DefaultBaseURL = %q: want the documented http://entrecard.com/uapi/1", c.BaseURL(), entrecard.DefaultBaseURL)
	}
	if c.SellerID() != testSeller {
		t.Errorf("SellerID = %q", c.SellerID())
	}
	if c.Name() != "entrecard" {
		t.Errorf("Name = %q", c.Name())
	}
	if got := c.Capabilities(); got != (paykit.Capabilities{Webhooks: true}) {
		t.Errorf("Capabilities = %+v", got)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	const secret = "do-not-print-me"
	cfg := entrecard.Config{SellerID: "1001", Secret: secret, BaseURL: "http://127.0.0.1:1", Store: entrecard.NewMemoryStore()}
	c, err := entrecard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{cfg, &cfg, c} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, secret) {
				t.Errorf("Sprintf(%q, %T) = %q holds the secret", format, v, out)
			}
			if !strings.Contains(out, "1001") {
				t.Errorf("Sprintf(%q, %T) = %q lost the seller id", format, v, out)
			}
		}
	}
	if out := fmt.Sprint(entrecard.Config{SellerID: "1"}); !strings.Contains(out, `Secret:""`) {
		t.Errorf("an empty secret prints as %q, want it shown as empty", out)
	}
}
