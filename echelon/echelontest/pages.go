package echelontest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// The payment web app the fake serves for a person or a browser test: the page EchelonPay's
// web app shows a customer holding a PAYIN_CREATE token (the ActionClientToken of
// echelon.Client.CreatePayment without Config.PaymentMethod). Like the real web app it talks
// to the API with the token alone: it asks POST /payins/!availablePaymentOptions for the
// options, the customer picks one and pays, and it creates the payin with POST /payins/{id}
// (the token's id and amount, the callback URL it was told) — so the token's limits, the
// rate window and any fault injected into those routes apply as they would. The customer's
// payment then succeeds at once (Pay): a callback goes to the callback URL, and the browser
// goes to the return URL.
const (
	// RoutePages is the route of every page under /sandbox/ (Call.Route, OnRoute).
	RoutePages = "/sandbox/{page}"
	// PathWebApp is the web app: GET ?token=…&callback=URL&return=URL.
	PathWebApp = "/sandbox/webapp"
	// PathWebAppPay creates the payin with the chosen option and pays it (form: token,
	// option "METHOD/OPERATOR", callback, return).
	PathWebAppPay = "/sandbox/webapp/pay"
)

// WebAppURL is the web app page for token on this server: callbackURL is where the payin's
// callbacks go (the web app is told it; a token cannot carry it), returnURL where the
// browser goes after paying. Either may be empty.
func (s *Server) WebAppURL(token, callbackURL, returnURL string) string {
	q := url.Values{"token": {token}}
	if callbackURL != "" {
		q.Set("callback", callbackURL)
	}
	if returnURL != "" {
		q.Set("return", returnURL)
	}
	return s.URL + PathWebApp + "?" + q.Encode()
}

func routeWithPages(path string) string {
	if strings.HasPrefix(path, "/sandbox/") {
		return RoutePages
	}
	return route(path)
}

func (s *Server) handleWithPages(r *http.Request, pattern string) response {
	if pattern != RoutePages {
		return s.handle(r, pattern)
	}
	switch r.URL.Path {
	case PathWebApp:
		if r.Method != http.MethodGet {
			return pageMethodNotAllowed(http.MethodGet)
		}
		q := r.URL.Query()
		return s.webAppPage(r.Context(), q.Get("token"), q.Get("callback"), q.Get("return"), "")
	case PathWebAppPay:
		if r.Method != http.MethodPost {
			return pageMethodNotAllowed(http.MethodPost)
		}
		if err := r.ParseForm(); err != nil {
			return pageText(http.StatusBadRequest, "The form cannot be read.")
		}
		f := r.PostForm
		tok, callback, back := f.Get("token"), f.Get("callback"), f.Get("return")
		if err := s.webAppPay(r.Context(), tok, f.Get("option"), callback, back); err != nil {
			resp := s.webAppPage(r.Context(), tok, callback, back, err.Error())
			if resp.Status == http.StatusOK {
				resp.Status = http.StatusConflict
			}
			return resp
		}
		if back == "" || !validURL(back) {
			back = PathWebApp + "?" + url.Values{"token": {tok}}.Encode()
		}
		return response{Status: http.StatusSeeOther, Header: http.Header{"Location": {back}}}
	}
	return pageText(http.StatusNotFound, "No page at "+r.URL.Path+".")
}

// webAppToken finds what a token the server issued allows, without checking its expiry or
// operations: the API calls the page makes with it check those.
func (s *Server) webAppToken(raw string) (IssuedToken, bool) {
	var c claims
	_, _, err := jwt.NewParser().ParseUnverified(raw, &c)
	if err != nil {
		return IssuedToken{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[c.ID]
	if !ok || tok.info.Action != ActionPayinCreate || tok.info.Money == nil {
		return IssuedToken{}, false
	}
	return tok.info, true
}

// apiCall makes a call to the server's own API with the token, as the web app would.
func (s *Server) apiCall(ctx context.Context, token, method, path string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-API-Version", "2")
	req.Header.Set("Content-Type", contentTypeJSON)
	resp, err := s.fake.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, out, err
}

// pageAPIError says what an error answer of the API said.
func pageAPIError(status int, body []byte) error {
	var e struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Message
	if msg == "" {
		msg = e.Error.Message
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return fmt.Errorf("EchelonPay answered %d: %s", status, msg)
}

type webAppOption struct{ Value, Label string }

// webAppPay creates the payin of the token with option and pays it.
func (s *Server) webAppPay(ctx context.Context, token, option, callback, back string) error {
	info, ok := s.webAppToken(token)
	if !ok {
		return fmt.Errorf("the token is not a PAYIN_CREATE token of this server")
	}
	method, operator, _ := strings.Cut(option, "/")
	if method == "" {
		return fmt.Errorf("choose a payment option")
	}
	body := map[string]any{
		"paymentRequested": map[string]any{"money": moneyOf(*info.Money)},
		"paymentMethod":    map[string]any{"paymentMethodCode": method, "paymentOperatorCode": operator},
	}
	if callback != "" {
		body["callbackUrl"] = callback
	}
	if back != "" {
		body["returnUrl"] = back
	}
	status, out, err := s.apiCall(ctx, token, http.MethodPost, "/payins/"+url.PathEscape(info.PaymentID), body)
	if err != nil {
		return err
	}
	if status != http.StatusOK && status != http.StatusConflict {
		return pageAPIError(status, out)
	}
	_, err = s.Pay(info.PaymentID)
	return err
}

var webAppTemplate = template.Must(template.New("webapp").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EchelonPay</title>
<style>body{font-family:system-ui,sans-serif;max-width:32em;margin:2em auto;color:#222}
h1{color:#639}label{display:block;padding:.3em 0}
button{font-size:1.05em;padding:.45em 1.2em;border-radius:6px;border:0;background:#639;color:#fff}
.err{color:#b00}.muted{color:#666;font-size:.9em}</style></head>
<body><h1>EchelonPay</h1>
<p class="muted">Sandbox: this page plays EchelonPay's payment web app for a PAYIN_CREATE token.</p>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<p>Pay <strong id="amount">{{.Amount}}</strong> for payment <code id="payment-id">{{.ID}}</code></p>
<p id="status">{{.Status}}</p>
{{if .Options}}<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}"><input type="hidden" name="callback" value="{{.Callback}}">
<input type="hidden" name="return" value="{{.Return}}">
<fieldset><legend>Payment options</legend>
{{range $i, $o := .Options}}<label><input type="radio" name="option" value="{{$o.Value}}"{{if eq $i 0}} checked{{end}}> {{$o.Label}}</label>{{end}}
</fieldset>
<p><button id="pay" type="submit">Pay</button></p></form>{{end}}
{{if .Return}}<p><a id="back" href="{{.Return}}">Back to the shop</a></p>{{end}}
</body></html>`))

// webAppPage renders the web app for token.
func (s *Server) webAppPage(ctx context.Context, token, callback, back, errText string) response {
	info, ok := s.webAppToken(token)
	if !ok {
		return pageText(http.StatusNotFound, "The token is not a PAYIN_CREATE token of this server.")
	}
	if back != "" && !validURL(back) {
		back = ""
	}
	if callback != "" && !validURL(callback) {
		return pageText(http.StatusBadRequest, "The callback URL must be an absolute http(s) URL.")
	}
	data := map[string]any{
		"ID": info.PaymentID, "Amount": info.Money.String(), "Token": token, "Callback": callback,
		"Return": back, "Action": PathWebAppPay, "Error": errText,
	}
	if p, exists := s.Payin(info.PaymentID); exists {
		data["Status"] = "Payin " + string(p.Status) + " (" + p.Method + ")."
	} else {
		status, out, err := s.apiCall(ctx, token, http.MethodPost, RoutePaymentOptions, map[string]any{"money": moneyOf(*info.Money)})
		var opts struct {
			Data []struct {
				PaymentMethodCode string `json:"paymentMethodCode"`
				PaymentOperators  []struct {
					Code string `json:"code"`
					Name string `json:"name"`
				} `json:"paymentOperators"`
			} `json:"data"`
		}
		switch {
		case err != nil:
			data["Status"] = "The payment options cannot be read: " + err.Error()
		case status != http.StatusOK:
			data["Status"] = "The payment options cannot be read: " + pageAPIError(status, out).Error()
		case json.Unmarshal(out, &opts) != nil:
			data["Status"] = "The payment options cannot be read."
		default:
			var options []webAppOption
			for _, m := range opts.Data {
				for _, op := range m.PaymentOperators {
					options = append(options, webAppOption{m.PaymentMethodCode + "/" + op.Code, m.PaymentMethodCode + ": " + op.Name})
				}
				if len(m.PaymentOperators) == 0 {
					options = append(options, webAppOption{m.PaymentMethodCode + "/", m.PaymentMethodCode})
				}
			}
			data["Options"], data["Status"] = options, "Choose how to pay."
		}
	}
	var b bytes.Buffer
	if err := webAppTemplate.Execute(&b, data); err != nil {
		return pageText(http.StatusInternalServerError, err.Error())
	}
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: b.Bytes()}
}

func pageText(status int, text string) response {
	return response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(text + "\n")}
}

func pageMethodNotAllowed(allow string) response {
	r := pageText(http.StatusMethodNotAllowed, "Use "+allow+".")
	r.Header.Set("Allow", allow)
	return r
}
