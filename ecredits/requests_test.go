package ecredits

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

const (
	testClientID = "3fa85f34-5717-4562-b3fc-2c963f66afa7"
	testSecret   = "VLLXVHVU3BA1FNiwyEtv8CQTxpaCg6t3zcAu9q57vB7dMzghfubu8mUJwsZfhHnw"
	testBase     = "https://widget.api.tst.ecredits.com"
)

// mockClient returns a client whose HTTP goes to an httpmock transport that already answers
// the authentication call.
func mockClient(t *testing.T, opts ...paykit.Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder("POST", testBase+"/api/authentication",
		httpmock.NewStringResponder(200, `{"token":"tok-123456","expiresAt":"2999-05-09T06:57:44.4906378+00:00"}`))
	opts = append([]paykit.Option{paykit.WithHTTPClient(&http.Client{Transport: mock}), paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond})}, opts...)
	c, err := New(Config{ClientID: testClientID, Secret: testSecret, WebhookSecret: vectorSecret, BaseURL: testBase}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mock
}

func requestJSON(id, fiat, fiatCur, ecs string) string {
	fiatCurJSON := "null"
	if fiatCur != "" {
		fiatCurJSON = `"` + fiatCur + `"`
	}
	if fiat == "" {
		fiat = "null"
	}
	return fmt.Sprintf(`{"id":%q,"fiatCurrencyCode":%s,"fiatAmountDue":%s,"amountDue":%s,"currencyCode":"ECS",
	 "qrCodeBase64":null,"qrCodeHtml":null,"qrCodeString":"eCreditsPayment:%s","href":"https://auth.ecredits.com/payment?code=%s",
	 "paymentReference":"OrderId123","expiresAt":"2999-05-09T06:11:30.4659728+00:00"}`, id, fiatCurJSON, fiat, ecs, id, id)
}

func TestCreateRequestDecodesExactly(t *testing.T) {
	t.Parallel()
	c, mock := mockClient(t)
	var sent string
	mock.RegisterResponder("POST", testBase+"/api/v1/requests", func(r *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		sent = string(b)
		if got := r.Header.Get("Authorization"); got != "Bearer tok-123456" {
			return httpmock.NewStringResponse(401, `{"title":"Unauthorized"}`), nil
		}
		return httpmock.NewStringResponse(200, requestJSON(vectorID, "99.99", "EUR", "9999")), nil
	})
	r, err := c.CreateRequest(context.Background(), CreateRequestParams{ID: vectorID, Amount: paykit.Money{Amount: 9999, Currency: "EUR"}, PaymentReference: "OrderId123"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sent, `"amountDue":99.99`) || !strings.Contains(sent, `"currencyCode":"EUR"`) || !strings.Contains(sent, `"id":"`+vectorID+`"`) {
		t.Fatalf("sent body %s", sent)
	}
	if r.AmountDue != (paykit.Money{Amount: 999900, Currency: "ECS"}) || r.FiatAmountDue == nil || *r.FiatAmountDue != (paykit.Money{Amount: 9999, Currency: "EUR"}) {
		t.Fatalf("amounts = %v %v", r.AmountDue, r.FiatAmountDue)
	}
	if r.QRCodeString != "eCreditsPayment:"+vectorID || r.ExpiresAt.Year() != 2999 {
		t.Fatalf("request = %+v", r)
	}
}

func TestCreateRequestAmountMismatch(t *testing.T) {
	t.Parallel()
	c, mock := mockClient(t)
	mock.RegisterResponder("POST", testBase+"/api/v1/requests", httpmock.NewStringResponder(200, requestJSON(vectorID, "99.98", "EUR", "9998")))
	_, err := c.CreateRequest(context.Background(), CreateRequestParams{ID: vectorID, Amount: paykit.Money{Amount: 9999, Currency: "EUR"}})
	if !errors.Is(err, paykit.ErrAmountMismatch) {
		t.Fatalf("err = %v, want ErrAmountMismatch", err)
	}
}

func TestCreateRequestConflictWithOtherAmount(t *testing.T) {
	t.Parallel()
	c, mock := mockClient(t)
	mock.RegisterResponder("POST", testBase+"/api/v1/requests", httpmock.NewStringResponder(409, `{"title":"Conflict","status":409}`))
	mock.RegisterResponder("GET", testBase+"/api/v1/requests/"+vectorID, httpmock.NewStringResponder(200, requestJSON(vectorID, "5.00", "EUR", "500")))
	_, err := c.CreateRequest(context.Background(), CreateRequestParams{ID: vectorID, Amount: paykit.Money{Amount: 9999, Currency: "EUR"}})
	if !errors.Is(err, paykit.ErrAmountMismatch) || !errors.Is(err, paykit.ErrConflict) {
		t.Fatalf("err = %v, want ErrAmountMismatch wrapping ErrConflict", err)
	}
	if got := mock.GetCallCountInfo()["POST "+testBase+"/api/v1/requests"]; got != 1 {
		t.Fatalf("create sent %d times, want 1 (409 is not retried)", got)
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	good := CreateRequestParams{ID: vectorID, Amount: paykit.Money{Amount: 100, Currency: "ECS"}}
	tests := []struct {
		name string
		mod  func(*CreateRequestParams)
	}{
		{"id not a GUID", func(p *CreateRequestParams) { p.ID = "order-1" }},
		{"empty id", func(p *CreateRequestParams) { p.ID = "" }},
		{"currency", func(p *CreateRequestParams) { p.Amount.Currency = "USD" }},
		{"zero amount", func(p *CreateRequestParams) { p.Amount.Amount = 0 }},
		{"negative amount", func(p *CreateRequestParams) { p.Amount.Amount = -1 }},
		{"qr type", func(p *CreateRequestParams) { p.QRCodeType = "Fancy" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mock := mockClient(t)
			p := good
			tt.mod(&p)
			if _, err := c.CreateRequest(context.Background(), p); !errors.Is(err, paykit.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			if n := mock.GetTotalCallCount(); n != 0 {
				t.Fatalf("%d requests sent, want 0", n)
			}
		})
	}
	t.Run("get with bad id", func(t *testing.T) {
		t.Parallel()
		c, mock := mockClient(t)
		for _, call := range []func() error{
			func() error { _, err := c.GetRequest(context.Background(), "x/../y", nil); return err },
			func() error { _, err := c.Paid(context.Background(), "nope"); return err },
			func() error { _, err := c.Payments(context.Background(), ""); return err },
			func() error { _, err := c.GetPayment(context.Background(), "1"); return err },
		} {
			if err := call(); !errors.Is(err, paykit.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		}
		if n := mock.GetTotalCallCount(); n != 0 {
			t.Fatalf("%d requests sent, want 0", n)
		}
	})
}

// An answered amount with more fraction digits than its currency has cannot be the amount
// asked: ErrAmountMismatch (DESIGN rule 6). One that is no decimal at all is a broken answer.
func TestAnsweredAmountThatCannotBeAsked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		fiat, fiatCur string
		ecs           string
		want, wantNot error
		wantInMessage string
	}{
		{"ECS with three fraction digits", "", "", "1.234", paykit.ErrAmountMismatch, paykit.ErrUnavailable, "amountDue"},
		{"EUR with three fraction digits", "99.991", "EUR", "9999.1", paykit.ErrAmountMismatch, paykit.ErrUnavailable, "fiatAmountDue"},
		{"an unknown fiat currency", "99.99", "XTS", "9999", paykit.ErrAmountMismatch, paykit.ErrUnavailable, "fiatAmountDue"},
		{"exponent notation", "", "", "1e3", paykit.ErrUnavailable, paykit.ErrAmountMismatch, "amountDue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mock := mockClient(t)
			mock.RegisterResponder("GET", testBase+"/api/v1/requests/"+vectorID, httpmock.NewStringResponder(200, requestJSON(vectorID, tt.fiat, tt.fiatCur, tt.ecs)))
			_, err := c.GetRequest(context.Background(), vectorID, nil)
			require.ErrorIs(t, err, tt.want)
			assert.NotErrorIs(t, err, tt.wantNot)
			assert.Contains(t, err.Error(), tt.wantInMessage)
		})
	}
	t.Run("create", func(t *testing.T) {
		t.Parallel()
		c, mock := mockClient(t)
		mock.RegisterResponder("POST", testBase+"/api/v1/requests", httpmock.NewStringResponder(200, requestJSON(vectorID, "99.991", "EUR", "9999.1")))
		_, err := c.CreatePayment(context.Background(), paykit.PaymentRequest{ID: vectorID, Amount: paykit.Money{Amount: 9999, Currency: "EUR"}})
		require.ErrorIs(t, err, paykit.ErrAmountMismatch)
		assert.NotErrorIs(t, err, paykit.ErrUnavailable)
	})
}

func TestAuthenticateFallsBackOnJWTExpiry(t *testing.T) {
	t.Parallel()
	exp := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder("POST", testBase+"/api/authentication", httpmock.NewStringResponder(200, `{"token":"`+tok+`"}`))
	c, err := New(Config{ClientID: testClientID, Secret: testSecret, BaseURL: testBase}, paykit.WithHTTPClient(&http.Client{Transport: mock}))
	if err != nil {
		t.Fatal(err)
	}
	at, err := c.Authenticate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !at.ExpiresAt.Equal(exp) {
		t.Fatalf("ExpiresAt = %v, want %v", at.ExpiresAt, exp)
	}
	if strings.Contains(fmt.Sprint(at), tok) || strings.Contains(fmt.Sprintf("%+v", *at), tok) {
		t.Fatal("AuthToken prints its token")
	}
}

func TestConfigPrintsNoSecret(t *testing.T) {
	t.Parallel()
	cfg := Config{ClientID: testClientID, Secret: testSecret, WebhookSecret: vectorSecret, BaseURL: testBase}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, cfg)
		if strings.Contains(out, testSecret) || strings.Contains(out, vectorSecret) {
			t.Fatalf("%s prints a secret: %s", format, out)
		}
		if !strings.Contains(out, testClientID) {
			t.Fatalf("%s lost the client id: %s", format, out)
		}
	}
	// Pointers print through String too.
	if out := fmt.Sprintf("%v", &cfg); strings.Contains(out, testSecret) {
		t.Fatalf("pointer prints a secret: %s", out)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		opts []paykit.Option
	}{
		{"no client id", Config{Secret: testSecret}, nil},
		{"no secret", Config{ClientID: testClientID}, nil},
		{"http host", Config{ClientID: testClientID, Secret: testSecret, BaseURL: "http://widget.api.ecredits.com"}, nil},
		{"bad retry", Config{ClientID: testClientID, Secret: testSecret}, []paykit.Option{paykit.WithRetry(paykit.RetryPolicy{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg, tt.opts...)
			if !errors.Is(err, paykit.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Fatal("error prints the secret")
			}
		})
	}
}

func TestUnsupportedOperations(t *testing.T) {
	t.Parallel()
	c, mock := mockClient(t)
	ctx := context.Background()
	if _, err := c.Capture(ctx, vectorID, paykit.Money{Amount: 1, Currency: "EUR"}); !errors.Is(err, paykit.ErrUnsupported) {
		t.Errorf("Capture: %v", err)
	}
	if _, err := c.Refund(ctx, vectorID, paykit.Money{Amount: 1, Currency: "EUR"}); !errors.Is(err, paykit.ErrUnsupported) {
		t.Errorf("Refund: %v", err)
	}
	if _, err := c.Cancel(ctx, vectorID); !errors.Is(err, paykit.ErrUnsupported) {
		t.Errorf("Cancel: %v", err)
	}
	caps := c.Capabilities()
	if caps.Capture || caps.Refund || caps.Cancel || !caps.Webhooks {
		t.Errorf("Capabilities = %+v", caps)
	}
	if mock.GetTotalCallCount() != 0 {
		t.Error("unsupported operations sent requests")
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		paid    bool
		expires time.Time
		want    RequestStatus
	}{
		{true, t0.Add(-time.Hour), RequestSettled},
		{false, t0.Add(-time.Nanosecond), RequestExpired},
		{false, t0, RequestExpired},
		{false, t0.Add(time.Second), RequestPending},
		{false, time.Time{}, RequestPending},
	}
	for _, tt := range tests {
		if got := statusOf(tt.paid, tt.expires, t0); got != tt.want {
			t.Errorf("statusOf(%v, %v) = %v, want %v", tt.paid, tt.expires, got, tt.want)
		}
	}
}
