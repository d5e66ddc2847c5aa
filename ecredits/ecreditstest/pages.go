package ecreditstest

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// The buyer's pages the fake serves besides the API, for a person or a browser test playing
// the eCredits eWallet app. They are not part of eCredits' Widget API: the real wallet is a
// phone app that scans the QR code.
const (
	// RoutePages is the route of every page under /sandbox/ (Call.Route, OnRoute): a fault
	// given without OnRoute hits the next page as it hits the next API call.
	RoutePages = "/sandbox/{page}"
	// PathWallet is the wallet step of a request: GET ?code={id}[&return=URL] shows the
	// amount, the QR code (PathQR) and a "Pay as the wallet app" button that POSTs to
	// PathWalletPay.
	PathWallet = "/sandbox/wallet"
	// PathWalletPay pays the request as Pay does (form: code, return) and redirects the
	// browser to return, or back to the wallet page.
	PathWalletPay = "/sandbox/wallet/pay"
	// PathQR answers a PNG of the QR code of the request ?code={id}: it encodes the
	// request's qrCodeString, "eCreditsPayment:{id}" (QRCode).
	PathQR = "/sandbox/qr.png"
)

// QRCode is the text the QR code of the request id encodes: the request's qrCodeString, and
// so paykit's Action.QRCode.
func QRCode(id string) string { return "eCreditsPayment:" + id }

// QRPNG returns a PNG of the QR code of text, size pixels wide (256 when 0 or less), at
// error correction level M.
func QRPNG(text string, size int) ([]byte, error) {
	if size <= 0 {
		size = 256
	}
	return qrcode.Encode(text, qrcode.Medium, size)
}

// WalletURL is the wallet page of the request id on this server; returnURL (may be empty)
// is where the browser goes after paying.
func (s *Server) WalletURL(id, returnURL string) string {
	q := url.Values{"code": {id}}
	if returnURL != "" {
		q.Set("return", returnURL)
	}
	return s.URL + PathWallet + "?" + q.Encode()
}

// Requests returns every transaction request, oldest first.
func (s *Server) Requests() []TransactionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TransactionRequest, 0, len(s.requests))
	for _, t := range s.requests {
		out = append(out, t.snapshot())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// routeWithPages is the API's route, or RoutePages for a page.
func routeWithPages(path string) string {
	if strings.HasPrefix(path, "/sandbox/") {
		return RoutePages
	}
	pattern, _ := route(path)
	return pattern
}

// handleWithPages serves a page, or the API.
func (s *Server) handleWithPages(r *http.Request, pattern string) response {
	if pattern != RoutePages {
		return s.handle(r, pattern)
	}
	switch r.URL.Path {
	case PathWallet:
		if r.Method != http.MethodGet {
			return pageMethodNotAllowed(http.MethodGet)
		}
		return s.walletPage(r.URL.Query().Get("code"), r.URL.Query().Get("return"), "")
	case PathWalletPay:
		if r.Method != http.MethodPost {
			return pageMethodNotAllowed(http.MethodPost)
		}
		if err := r.ParseForm(); err != nil {
			return pageText(http.StatusBadRequest, "The form cannot be read.")
		}
		id, back := r.PostForm.Get("code"), r.PostForm.Get("return")
		if _, err := s.Pay(id); err != nil {
			status := http.StatusConflict
			if errors.Is(err, ErrUnknownPayment) {
				status = http.StatusNotFound
			}
			resp := s.walletPage(id, back, err.Error())
			if resp.Status == http.StatusOK {
				resp.Status = status
			}
			return resp
		}
		if back == "" || !validReturn(back) {
			back = PathWallet + "?" + url.Values{"code": {id}}.Encode()
		}
		return response{Status: http.StatusSeeOther, Header: http.Header{"Location": {back}}}
	case PathQR:
		id := r.URL.Query().Get("code")
		s.mu.Lock()
		t, ok := s.requests[idKey(id)]
		s.mu.Unlock()
		if !ok {
			return pageText(http.StatusNotFound, "No transaction request "+id+".")
		}
		png, err := QRPNG(QRCode(t.id), 256)
		if err != nil {
			return pageText(http.StatusInternalServerError, "The QR code cannot be made: "+err.Error())
		}
		return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"image/png"}}, Body: png}
	}
	return pageText(http.StatusNotFound, "No page at "+r.URL.Path+".")
}

var walletTemplate = template.Must(template.New("wallet").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eCredits eWallet</title>
<style>body{font-family:system-ui,sans-serif;max-width:32em;margin:2em auto;color:#222}
h1{color:#0a6}.box{border:1px solid #ccc;border-radius:8px;padding:1em;text-align:center}
button{font-size:1.1em;padding:.5em 1.5em;background:#0a6;color:#fff;border:0;border-radius:6px}
.err{color:#b00}.muted{color:#666;font-size:.9em}</style></head>
<body><h1>eCredits eWallet</h1>
<p class="muted">Sandbox: this page plays the eCredits eWallet app scanning the merchant's QR code.</p>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<div class="box">
<p>Pay <strong id="amount">{{.Amount}}</strong>{{if .Fiat}} ({{.Fiat}}){{end}}</p>
<img id="qr" src="{{.QR}}" width="256" height="256" alt="QR code: {{.QRText}}">
<p class="muted"><code id="qr-text">{{.QRText}}</code><br>expires {{.Expires}}</p>
<p id="status">{{.Status}}</p>
{{if .Payable}}<form method="post" action="{{.Action}}">
<input type="hidden" name="code" value="{{.ID}}"><input type="hidden" name="return" value="{{.Return}}">
<button id="pay" type="submit">Pay as the wallet app</button></form>{{end}}
{{if .Return}}<p><a id="back" href="{{.Return}}">Back to the shop</a></p>{{end}}
</div></body></html>`))

// walletPage renders the wallet step of the request id.
func (s *Server) walletPage(id, back, errText string) response {
	s.mu.Lock()
	t, ok := s.requests[idKey(id)]
	var snap TransactionRequest
	if ok {
		snap = t.snapshot()
	}
	s.mu.Unlock()
	if !ok {
		return pageText(http.StatusNotFound, "No transaction request "+id+".")
	}
	if back != "" && !validReturn(back) {
		back = ""
	}
	now := s.Now()
	status, payable := "Waiting for payment.", true
	switch {
	case snap.Paid():
		status, payable = "Paid: transaction "+snap.Payments[len(snap.Payments)-1], false
	case !now.Before(snap.ExpiresAt):
		status, payable = "Expired.", false
	}
	data := map[string]any{
		"ID": snap.ID, "Amount": snap.AmountDue.String(), "QRText": QRCode(snap.ID),
		"QR": PathQR + "?" + url.Values{"code": {snap.ID}}.Encode(), "Expires": formatTime(snap.ExpiresAt),
		"Status": status, "Payable": payable, "Return": back, "Action": PathWalletPay, "Error": errText,
	}
	if !snap.FiatAmountDue.IsZero() {
		data["Fiat"] = snap.FiatAmountDue.String()
	}
	var b bytes.Buffer
	if err := walletTemplate.Execute(&b, data); err != nil {
		return pageText(http.StatusInternalServerError, err.Error())
	}
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: b.Bytes()}
}

// validReturn reports whether u is an absolute http(s) URL, the only kind the pages send a
// browser to.
func validReturn(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

func pageText(status int, text string) response {
	return response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(text + "\n")}
}

func pageMethodNotAllowed(allow string) response {
	r := pageText(http.StatusMethodNotAllowed, "Use "+allow+".")
	r.Header.Set("Allow", allow)
	return r
}
