package ecreditstest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paykit/paykit"
)

var providerTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$`)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   any
		status int
	}{
		{"valid", authBody(), 200},
		{"client id in upper case", map[string]string{"secret": DefaultSecret, "clientId": strings.ToUpper(DefaultClientID)}, 200},
		{"wrong secret", map[string]string{"secret": DefaultSecret + "x", "clientId": DefaultClientID}, 401},
		{"secret in other case", map[string]string{"secret": strings.ToUpper(DefaultSecret), "clientId": DefaultClientID}, 401},
		{"wrong client", map[string]string{"secret": DefaultSecret, "clientId": "3fa85f34-5717-4562-b3fc-2c963f66afa8"}, 401},
		{"missing secret", map[string]string{"clientId": DefaultClientID}, 400},
		{"missing client", map[string]string{"secret": DefaultSecret}, 400},
		{"client not a guid", map[string]string{"secret": DefaultSecret, "clientId": "shop"}, 400},
		{"not json", "secret=x", 400},
		{"array", "[]", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{})
			before := time.Now()
			a := call(t, s, http.MethodPost, RouteAuthentication, "", tc.body)
			if tc.status != 200 {
				checkProblem(t, a, tc.status)
				if n := s.AuthCount(); n != 0 {
					t.Errorf("AuthCount %d after a failed authentication", n)
				}
				return
			}
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			var r struct{ Token, ExpiresAt string }
			a.decode(t, &r)
			if !providerTime.MatchString(r.ExpiresAt) {
				t.Errorf("expiresAt %q is not in the provider's format", r.ExpiresAt)
			}
			exp, err := time.Parse(time.RFC3339Nano, r.ExpiresAt)
			if err != nil {
				t.Fatal(err)
			}
			if d := exp.Sub(before); d < DefaultTokenLifetime || d > DefaultTokenLifetime+time.Minute {
				t.Errorf("expiresAt %v is %v after the call, want about %v", exp, d, DefaultTokenLifetime)
			}
			claims := jwt.RegisteredClaims{}
			tok, _, err := jwt.NewParser().ParseUnverified(r.Token, &claims)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Method.Alg() != "HS256" || claims.Subject != DefaultClientID {
				t.Errorf("token alg %s sub %q, want HS256 and %s", tok.Method.Alg(), claims.Subject, DefaultClientID)
			}
			if claims.ExpiresAt == nil || claims.ExpiresAt.Before(exp) || claims.ExpiresAt.Sub(exp) >= time.Second {
				t.Errorf("exp claim %v, want expiresAt %v rounded up to a second", claims.ExpiresAt, exp)
			}
			if n := s.AuthCount(); n != 1 {
				t.Errorf("AuthCount %d, want 1", n)
			}
		})
	}
}

func TestAuthenticationCustomCredentials(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{ClientID: "11111111-2222-3333-4444-555555555555", Secret: "k"})
	if a := call(t, s, http.MethodPost, RouteAuthentication, "", authBody()); a.status != 401 {
		t.Errorf("default credentials: %d, want 401", a.status)
	}
	a := call(t, s, http.MethodPost, RouteAuthentication, "", map[string]string{"secret": "k", "clientId": "11111111-2222-3333-4444-555555555555"})
	if a.status != 200 {
		t.Errorf("configured credentials: %d, want 200", a.status)
	}
}

func TestBearer(t *testing.T) {
	t.Parallel()
	otherKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject: DefaultClientID, Issuer: tokenIssuer, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString([]byte("not the server's key"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header func(t *testing.T, s *Server) string // the Authorization header
		status int
	}{
		{"valid", func(t *testing.T, s *Server) string { return "Bearer " + login(t, s) }, 200},
		{"scheme in lower case", func(t *testing.T, s *Server) string { return "bearer " + login(t, s) }, 200},
		{"missing", func(*testing.T, *Server) string { return "" }, 401},
		{"basic scheme", func(t *testing.T, s *Server) string { return "Basic " + login(t, s) }, 401},
		{"garbage", func(*testing.T, *Server) string { return "Bearer abc.def.ghi" }, 401},
		{"other key", func(*testing.T, *Server) string { return "Bearer " + otherKey }, 401},
		{"expired by the clock", func(t *testing.T, s *Server) string {
			tok := login(t, s)
			s.Advance(DefaultTokenLifetime)
			return "Bearer " + tok
		}, 401},
		{"expired by a short lifetime", func(t *testing.T, s *Server) string {
			s.SetTokenLifetime(30 * time.Millisecond)
			tok := login(t, s)
			time.Sleep(50 * time.Millisecond)
			return "Bearer " + tok
		}, 401},
		{"still valid just before expiry", func(t *testing.T, s *Server) string {
			tok := login(t, s)
			s.Advance(DefaultTokenLifetime - time.Second)
			return "Bearer " + tok
		}, 200},
		{"revoked", func(t *testing.T, s *Server) string {
			tok := login(t, s)
			s.RevokeTokens()
			return "Bearer " + tok
		}, 401},
		{"new token after revoke", func(t *testing.T, s *Server) string {
			login(t, s)
			s.RevokeTokens()
			return "Bearer " + login(t, s)
		}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{})
			create(t, s, login(t, s), ecsBody(docID, "1"))
			h := tc.header(t, s)
			for _, path := range []string{"/api/v1/requests/" + docID, "/api/v1/requests/" + docID + "/paid", "/api/v1/requests/" + docID + "/payments"} {
				req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
				if h != "" {
					req.Header.Set("Authorization", h)
				}
				resp, err := s.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, tc.status)
				}
				if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without a Bearer challenge: %q", resp.Header.Get("WWW-Authenticate"))
				}
			}
			if a := call(t, s, http.MethodPost, RouteRequests, strings.TrimPrefix(h, "Bearer "), ecsBody("11111111-1111-1111-1111-111111111111", "1")); tc.status == 401 && a.status != 401 {
				t.Errorf("create with a bad token: %d, want 401", a.status)
			}
		})
	}
}

func TestCreateGetPaymentsPaid(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tok := login(t, s)
	got := create(t, s, tok, `{"id":"`+docID+`","amountDue":12.5,"currencyCode":"ECS","paymentReference":"OrderId123","testMode":true}`)
	want := map[string]any{
		"id":               docID,
		"fiatCurrencyCode": nil,
		"fiatAmountDue":    nil,
		"amountDue":        json.Number("12.5"),
		"currencyCode":     "ECS",
		"qrCodeBase64":     nil,
		"qrCodeHtml":       nil,
		"qrCodeString":     "eCreditsPayment:" + docID,
		"href":             "https://auth.ecredits.com/payment?code=" + docID,
		"paymentReference": "OrderId123",
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %#v (present %v), want %#v", k, g, ok, v)
		}
	}
	exp, _ := got["expiresAt"].(string)
	if !providerTime.MatchString(exp) {
		t.Errorf("expiresAt %q is not in the provider's format", exp)
	}
	if et, err := time.Parse(time.RFC3339Nano, exp); err != nil || time.Until(et) < DefaultRequestLifetime-time.Minute || time.Until(et) > DefaultRequestLifetime {
		t.Errorf("expiresAt %v, want about now + %v (err %v)", et, DefaultRequestLifetime, err)
	}
	if len(got) != 11 {
		t.Errorf("%d fields, want 11: %v", len(got), got)
	}

	// Reads find it ignoring case and answer the same shape.
	lower := strings.ToLower(docID)
	a := call(t, s, http.MethodGet, "/api/v1/requests/"+lower, tok, nil)
	if a.status != 200 {
		t.Fatalf("get: %d %s", a.status, a.body)
	}
	if g := a.object(t); g["id"] != docID || g["amountDue"] != json.Number("12.5") || g["expiresAt"] != exp {
		t.Errorf("get answered %v", g)
	}
	paid := func() string {
		a := call(t, s, http.MethodGet, "/api/v1/requests/"+lower+"/paid", tok, nil)
		if a.status != 200 || a.header.Get("Content-Type") != contentTypeJSON {
			t.Fatalf("paid: %d %q %s", a.status, a.header.Get("Content-Type"), a.body)
		}
		return string(a.body)
	}
	payments := func() []string {
		a := call(t, s, http.MethodGet, "/api/v1/requests/"+docID+"/payments", tok, nil)
		if a.status != 200 {
			t.Fatalf("payments: %d %s", a.status, a.body)
		}
		var p []string
		a.decode(t, &p)
		if p == nil {
			t.Fatalf("payments answered %s, want an array", a.body)
		}
		return p
	}
	if p := paid(); p != "false" {
		t.Errorf("paid before paying: %s", p)
	}
	if p := payments(); len(p) != 0 {
		t.Errorf("payments before paying: %v", p)
	}

	hash := regexp.MustCompile(`^0x[0-9a-f]{64}$`)
	h1, err := s.Pay(lower)
	if err != nil || !hash.MatchString(h1) {
		t.Fatalf("Pay: %q, %v", h1, err)
	}
	if got := lastHash(t, s, docID); got != h1 {
		t.Errorf("Request shows hash %q, Pay returned %q", got, h1)
	}
	if p := paid(); p != "true" {
		t.Errorf("paid after paying: %s", p)
	}
	h2, err := s.Pay(docID)
	if err != nil || h2 == h1 || !hash.MatchString(h2) {
		t.Fatalf("second Pay: %q, %v", h2, err)
	}
	if p := payments(); len(p) != 2 || p[0] != h1 || p[1] != h2 {
		t.Errorf("payments %v, want [%s %s]", p, h1, h2)
	}
	r, ok := s.Request(lower)
	if !ok || r.ID != docID || !r.Paid() || !r.TestMode || r.PaymentReference != "OrderId123" ||
		r.AmountDue != (paykit.Money{Amount: 1250, Currency: "ECS"}) || !r.FiatAmountDue.IsZero() {
		t.Errorf("Request = %+v, %v", r, ok)
	}
	if _, err := s.Pay("11111111-1111-1111-1111-111111111111"); !errors.Is(err, ErrUnknownPayment) {
		t.Errorf("Pay of an unknown id: %v, want ErrUnknownPayment", err)
	}
	if r, _ := s.Request(docID); len(r.Payments) != 2 {
		t.Errorf("%d payments after a Pay of another id, want 2", len(r.Payments))
	}
}

func TestCreateConflict(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, repeatID string }{
		{"same id", docID},
		{"lower case", strings.ToLower(docID)},
		{"upper case", strings.ToUpper(docID)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{})
			tok := login(t, s)
			first := create(t, s, tok, ecsBody(docID, "5"))
			a := call(t, s, http.MethodPost, RouteRequests, tok, `{"id":"`+tc.repeatID+`","amountDue":99.99,"currencyCode":"EUR","paymentReference":"other"}`)
			checkProblem(t, a, http.StatusConflict)
			g := call(t, s, http.MethodGet, "/api/v1/requests/"+tc.repeatID, tok, nil).object(t)
			for _, k := range []string{"id", "amountDue", "fiatAmountDue", "paymentReference", "expiresAt"} {
				if g[k] != first[k] {
					t.Errorf("after the 409 %s = %v, was %v", k, g[k], first[k])
				}
			}
		})
	}
}

func TestAmounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		rate                  int64
		amount, currency      string
		wantFiat, wantECS     string // as written in JSON; wantFiat "" means null
		wantFiatMoney, wantMo paykit.Money
	}{
		{"doc example", 0, "99.99", "EUR", "99.99", "9999", paykit.Money{Amount: 9999, Currency: "EUR"}, paykit.Money{Amount: 999900, Currency: "ECS"}},
		{"one cent", 0, "0.01", "EUR", "0.01", "1", paykit.Money{Amount: 1, Currency: "EUR"}, paykit.Money{Amount: 100, Currency: "ECS"}},
		{"one tenth", 0, "0.1", "EUR", "0.1", "10", paykit.Money{Amount: 10, Currency: "EUR"}, paykit.Money{Amount: 1000, Currency: "ECS"}},
		{"large", 0, "12345678901.23", "EUR", "12345678901.23", "1234567890123", paykit.Money{Amount: 1234567890123, Currency: "EUR"}, paykit.Money{Amount: 123456789012300, Currency: "ECS"}},
		{"trailing zeros", 0, "10.50", "EUR", "10.5", "1050", paykit.Money{Amount: 1050, Currency: "EUR"}, paykit.Money{Amount: 105000, Currency: "ECS"}},
		{"other rate", 7, "1.11", "EUR", "1.11", "7.77", paykit.Money{Amount: 111, Currency: "EUR"}, paykit.Money{Amount: 777, Currency: "ECS"}},
		{"float trap", 3, "0.1", "EUR", "0.1", "0.3", paykit.Money{Amount: 10, Currency: "EUR"}, paykit.Money{Amount: 30, Currency: "ECS"}},
		{"ecs as sent", 0, "10.5", "ECS", "", "10.5", paykit.Money{}, paykit.Money{Amount: 1050, Currency: "ECS"}},
		{"ecs whole", 0, "9999", "ECS", "", "9999", paykit.Money{}, paykit.Money{Amount: 999900, Currency: "ECS"}},
		{"ecs extra zero digits", 0, "1.000", "ECS", "", "1", paykit.Money{}, paykit.Money{Amount: 100, Currency: "ECS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{ECSPerEUR: tc.rate})
			tok := login(t, s)
			a := call(t, s, http.MethodPost, RouteRequests, tok, `{"id":"`+docID+`","amountDue":`+tc.amount+`,"currencyCode":"`+tc.currency+`"}`)
			if a.status != 200 {
				t.Fatalf("create: %d %s", a.status, a.body)
			}
			// Compare the raw JSON text: the numbers must be written exactly.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(a.body, &raw); err != nil {
				t.Fatal(err)
			}
			wantFiat, wantCode := "null", "null"
			if tc.wantFiat != "" {
				wantFiat, wantCode = tc.wantFiat, `"EUR"`
			}
			if string(raw["fiatAmountDue"]) != wantFiat || string(raw["fiatCurrencyCode"]) != wantCode {
				t.Errorf("fiat %s %s, want %s %s", raw["fiatAmountDue"], raw["fiatCurrencyCode"], wantFiat, wantCode)
			}
			if string(raw["amountDue"]) != tc.wantECS || string(raw["currencyCode"]) != `"ECS"` {
				t.Errorf("amountDue %s %s, want %s ECS", raw["amountDue"], raw["currencyCode"], tc.wantECS)
			}
			r, _ := s.Request(docID)
			if r.AmountDue != tc.wantMo || r.FiatAmountDue != tc.wantFiatMoney {
				t.Errorf("stored %v / %v, want %v / %v", r.AmountDue, r.FiatAmountDue, tc.wantMo, tc.wantFiatMoney)
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, field string
	}{
		{"missing id", `{"amountDue":1,"currencyCode":"ECS"}`, "id"},
		{"null id", `{"id":null,"amountDue":1,"currencyCode":"ECS"}`, "id"},
		{"id not a guid", `{"id":"order-1","amountDue":1,"currencyCode":"ECS"}`, "id"},
		{"id without dashes", `{"id":"70df7b4229264fa78fedc5805f823167","amountDue":1,"currencyCode":"ECS"}`, "id"},
		{"empty guid", `{"id":"00000000-0000-0000-0000-000000000000","amountDue":1,"currencyCode":"ECS"}`, "id"},
		{"id a number", `{"id":5,"amountDue":1,"currencyCode":"ECS"}`, "id"},
		{"missing amount", `{"id":"` + docID + `","currencyCode":"ECS"}`, "amountDue"},
		{"amount a string", `{"id":"` + docID + `","amountDue":"99.99","currencyCode":"EUR"}`, "amountDue"},
		{"amount zero", `{"id":"` + docID + `","amountDue":0,"currencyCode":"EUR"}`, "amountDue"},
		{"amount zero with decimals", `{"id":"` + docID + `","amountDue":0.00,"currencyCode":"EUR"}`, "amountDue"},
		{"amount negative", `{"id":"` + docID + `","amountDue":-5,"currencyCode":"EUR"}`, "amountDue"},
		{"amount three digits", `{"id":"` + docID + `","amountDue":99.999,"currencyCode":"EUR"}`, "amountDue"},
		{"amount exponent", `{"id":"` + docID + `","amountDue":1e2,"currencyCode":"EUR"}`, "amountDue"},
		{"amount overflows after conversion", `{"id":"` + docID + `","amountDue":92233720368547758.07,"currencyCode":"EUR"}`, "amountDue"},
		{"amount too large", `{"id":"` + docID + `","amountDue":99999999999999999999,"currencyCode":"ECS"}`, "amountDue"},
		{"missing currency", `{"id":"` + docID + `","amountDue":1}`, "currencyCode"},
		{"currency USD", `{"id":"` + docID + `","amountDue":1,"currencyCode":"USD"}`, "currencyCode"},
		{"currency lower case", `{"id":"` + docID + `","amountDue":1,"currencyCode":"eur"}`, "currencyCode"},
		{"qr type unknown", `{"id":"` + docID + `","amountDue":1,"currencyCode":"ECS","qrCodeType":"Fancy"}`, "qrCodeType"},
		{"generateQrCode a string", `{"id":"` + docID + `","amountDue":1,"currencyCode":"ECS","generateQrCode":"yes"}`, "generateQrCode"},
		{"testMode a number", `{"id":"` + docID + `","amountDue":1,"currencyCode":"ECS","testMode":1}`, "testMode"},
		{"reference a number", `{"id":"` + docID + `","amountDue":1,"currencyCode":"ECS","paymentReference":123}`, "paymentReference"},
		{"not json", `id=1`, "$"},
		{"array", `[{"id":"` + docID + `"}]`, "$"},
		{"null", `null`, "$"},
		{"trailing data", ecsBody(docID, "1") + `{}`, "$"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{})
			a := call(t, s, http.MethodPost, RouteRequests, login(t, s), tc.body)
			p := checkProblem(t, a, http.StatusBadRequest)
			errs, _ := p["errors"].(map[string]any)
			if msgs, _ := errs[tc.field].([]any); len(msgs) == 0 {
				t.Errorf("no error for %s in %s", tc.field, a.body)
			}
			if _, ok := s.Request(docID); ok {
				t.Error("an invalid create stored a request")
			}
		})
	}
}

func TestQRCode(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tok := login(t, s)
	checkQR := func(t *testing.T, g map[string]any, wantImg, wantHTML bool) {
		t.Helper()
		img, isStr := g["qrCodeBase64"].(string)
		if isStr != wantImg || (!wantImg && g["qrCodeBase64"] != nil) {
			t.Errorf("qrCodeBase64 %v, want present=%v", g["qrCodeBase64"], wantImg)
		}
		if wantImg {
			b, err := base64.StdEncoding.DecodeString(img)
			if err != nil || !strings.HasPrefix(string(b), "GIF89a") {
				t.Errorf("qrCodeBase64 is not a base64 GIF: %v", err)
			}
		}
		html, isStr := g["qrCodeHtml"].(string)
		if isStr != wantHTML || (!wantHTML && g["qrCodeHtml"] != nil) {
			t.Errorf("qrCodeHtml %v, want present=%v", g["qrCodeHtml"], wantHTML)
		}
		if wantHTML && (!strings.Contains(html, "<img") || !strings.Contains(html, "data:image/gif;base64,"+img)) {
			t.Errorf("qrCodeHtml %q does not embed the image", html)
		}
	}
	tests := []struct {
		name            string
		extra           string // JSON fields added to the create
		query           string
		wantImg, wantHT bool
		status          int
	}{
		{"none", ``, ``, false, false, 200},
		{"basic", `,"generateQrCode":true`, `?generateQrCode=true`, true, false, 200},
		{"basic explicit", `,"generateQrCode":true,"qrCodeType":"Basic"`, `?generateQrCode=True&qrCodeType=Basic`, true, false, 200},
		{"html", `,"generateQrCode":true,"qrCodeType":"HtmlEmbedded"`, `?generateQrCode=true&qrCodeType=HtmlEmbedded`, true, true, 200},
		{"html without generate", `,"qrCodeType":"HtmlEmbedded"`, `?qrCodeType=HtmlEmbedded`, false, false, 200},
		{"false", `,"generateQrCode":false`, `?generateQrCode=false`, false, false, 200},
		{"bad query bool", ``, `?generateQrCode=yes`, false, false, 400},
		{"bad query type", ``, `?qrCodeType=Fancy`, false, false, 400},
	}
	for i, tc := range tests {
		id := fmt.Sprintf("%08x-2926-4fa7-8fed-c5805f823167", i+1)
		g := create(t, s, tok, `{"id":"`+id+`","amountDue":1,"currencyCode":"ECS"`+tc.extra+`}`)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.status == 200 {
				checkQR(t, g, tc.wantImg, tc.wantHT)
			}
			a := call(t, s, http.MethodGet, "/api/v1/requests/"+id+tc.query, tok, nil)
			if tc.status != 200 {
				checkProblem(t, a, tc.status)
				return
			}
			if a.status != 200 {
				t.Fatalf("get: %d %s", a.status, a.body)
			}
			checkQR(t, a.object(t), tc.wantImg, tc.wantHT)
		})
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tok := login(t, s)
	unknown := "11111111-2222-3333-4444-555555555555"
	tests := []struct {
		method, path string
		token        string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/requests/" + unknown, tok, 404, ""},
		{"GET", "/api/v1/requests/" + unknown + "/payments", tok, 404, ""},
		{"GET", "/api/v1/requests/" + unknown + "/paid", tok, 404, ""},
		{"GET", "/api/v1/requests/not-a-guid", tok, 400, ""},
		{"GET", "/api/v1/requests/" + unknown + "/refunds", tok, 404, ""},
		{"GET", "/api/v2/requests", tok, 404, ""},
		{"GET", "/", "", 404, ""},
		{"GET", "/api/v1/unknown", "", 404, ""},
		{"GET", "/api/authentication", "", 405, "POST"},
		{"GET", "/api/v1/requests", tok, 405, "POST"},
		{"DELETE", "/api/v1/requests/" + unknown, "", 405, "GET"},
		{"POST", "/api/v1/requests/" + unknown + "/paid", tok, 405, "GET"},
		{"PUT", "/api/v1/requests/" + unknown + "/payments", tok, 405, "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			a := call(t, s, tc.method, tc.path, tc.token, nil)
			checkProblem(t, a, tc.status)
			if got := a.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestCallLog(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tok := login(t, s)
	create(t, s, tok, ecsBody(docID, "1"))
	call(t, s, http.MethodGet, "/api/v1/requests/"+docID+"/paid?x=1", tok, nil)
	call(t, s, http.MethodGet, "/api/v1/requests/"+docID+"/paid", tok, nil)
	call(t, s, http.MethodGet, "/nowhere", "", nil)

	counts := []struct {
		method, route string
		want          int
	}{
		{"POST", RouteAuthentication, 1},
		{"POST", RouteRequests, 1},
		{"GET", RouteRequestPaid, 2},
		{"", RouteRequestPaid, 2},
		{"POST", RouteRequestPaid, 0},
		{"GET", RouteRequest, 0},
		{"GET", "", 1},
	}
	for _, c := range counts {
		if got := s.Calls(c.method, c.route); got != c.want {
			t.Errorf("Calls(%q, %q) = %d, want %d", c.method, c.route, got, c.want)
		}
	}
	log := s.CallLog()
	if len(log) != 5 {
		t.Fatalf("%d calls logged, want 5: %+v", len(log), log)
	}
	if c := log[2]; c.Path != "/api/v1/requests/"+docID+"/paid" || c.Query != "x=1" || c.Status != 200 || c.Handled != 200 || c.Fault != FaultNone {
		t.Errorf("log[2] = %+v", c)
	}
	if c := log[4]; c.Route != "" || c.Status != 404 {
		t.Errorf("log[4] = %+v", c)
	}
}

func TestExpire(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tok := login(t, s)
	create(t, s, tok, ecsBody(docID, "1"))
	if err := s.Expire(strings.ToUpper(docID)); err != nil {
		t.Fatal(err)
	}
	g := call(t, s, http.MethodGet, "/api/v1/requests/"+docID, tok, nil).object(t)
	exp, err := time.Parse(time.RFC3339Nano, g["expiresAt"].(string))
	if err != nil || !exp.Before(s.Now()) {
		t.Errorf("expiresAt %v after Expire, want in the past (%v)", exp, err)
	}
	if _, err := s.Pay(docID); !errors.Is(err, ErrExpired) {
		t.Errorf("Pay after Expire: %v, want ErrExpired", err)
	}

	// Time passing expires a request too; a paid request does not expire.
	const other, paid = "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"
	create(t, s, tok, ecsBody(other, "1"))
	create(t, s, tok, ecsBody(paid, "1"))
	if _, err := s.Pay(paid); err != nil {
		t.Fatal(err)
	}
	if err := s.Expire(paid); !errors.Is(err, ErrPaid) {
		t.Error("Expire of a paid request succeeded")
	}
	s.Advance(DefaultRequestLifetime)
	if _, err := s.Pay(other); !errors.Is(err, ErrExpired) {
		t.Error("Pay after the request lifetime succeeded")
	}
	if err := s.Expire("44444444-4444-4444-4444-444444444444"); !errors.Is(err, ErrUnknownPayment) {
		t.Error("Expire of an unknown id succeeded")
	}
}

// lastHash is the transaction hash of the latest payment of the request id.
func lastHash(t *testing.T, s *Server, id string) string {
	t.Helper()
	r, ok := s.Request(id)
	if !ok || len(r.Payments) == 0 {
		t.Fatalf("request %s: %+v, %v; want a payment", id, r, ok)
	}
	return r.Payments[len(r.Payments)-1]
}
