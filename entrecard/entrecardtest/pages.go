package entrecardtest

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The buy page a browser sees. Entrecard's buy link opens a page where the buyer signs in
// and confirms or cancels; the fake answers the same /buy route as HTML to a browser (a
// request whose Accept names text/html) and as the plain-text page Open reads to everything
// else. Its forms post the link's parameters to /buy/confirm, /buy/cancel and /buy/leave,
// the routes the control methods use, so a person or a browser test goes exactly where Pay,
// Cancel and Leave go: the result is sent to the notify URL and the browser is redirected to
// the success or cancel URL.

var buyTemplate = template.Must(template.New("buy").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Entrecard: confirm your purchase</title>
<style>body{font-family:system-ui,sans-serif;max-width:32em;margin:2em auto;color:#222}
h1{color:#36c}table{border-collapse:collapse}td{padding:.2em .8em .2em 0}
button{font-size:1.05em;padding:.45em 1.2em;border-radius:6px;border:1px solid #36c;background:#fff;color:#36c}
button.primary{background:#36c;color:#fff}.muted{color:#666;font-size:.9em}</style></head>
<body><h1>Entrecard</h1><h2>Confirm your purchase</h2>
<p class="muted">Sandbox: this is the fake's buy page behind the merchant's signed buy link.</p>
<table>
<tr><td>Seller</td><td id="seller">{{.SellerID}}</td></tr>
<tr><td>Item</td><td id="item">{{.ItemID}}</td></tr>
<tr><td>Description</td><td id="description">{{.Description}}</td></tr>
<tr><td>Quantity</td><td>{{.Quantity}} × {{.Cost}} credits</td></tr>
<tr><td>Total</td><td><strong id="total">{{.Total}} credits</strong></td></tr>
</table>
<form method="post" action="{{.Base}}/buy/confirm">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<p><label>Sign in as <select name="buyer" id="buyer">{{range .Buyers}}<option value="{{.Name}}">{{.Name}} ({{.Balance}} credits)</option>{{end}}</select></label></p>
<p><button class="primary" id="confirm" type="submit">Confirm and pay</button>
<button id="cancel" type="submit" formaction="{{.Base}}/buy/cancel">Cancel</button>
<button id="leave" type="submit" formaction="{{.Base}}/buy/leave">Leave</button></p>
</form></body></html>`))

type buyField struct{ Name, Value string }

type buyBuyer struct {
	Name    string
	Balance int64
}

// wantsHTML reports whether the request is a browser's asking for a page.
func wantsHTML(r *http.Request) bool { return strings.Contains(r.Header.Get("Accept"), "text/html") }

// handleWithPages serves the API; the /buy page answered 200 to a browser comes as HTML.
func (s *Server) handleWithPages(r *http.Request, rt string) response {
	resp := s.handle(r, rt)
	if rt != RouteBuy || resp.Status != http.StatusOK || !wantsHTML(r) {
		return resp
	}
	page, err := parsePage(string(resp.Body))
	if err != nil {
		return resp
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	var fields []buyField
	for _, k := range append(linkFields[:], "signature") {
		fields = append(fields, buyField{k, q.Get(k)})
	}
	s.mu.Lock()
	var buyers []buyBuyer
	for name, bal := range s.buyers {
		buyers = append(buyers, buyBuyer{name, bal})
	}
	s.mu.Unlock()
	sort.Slice(buyers, func(i, j int) bool {
		// DefaultBuyer first: the one a click-through pays with.
		if (buyers[i].Name == DefaultBuyer) != (buyers[j].Name == DefaultBuyer) {
			return buyers[i].Name == DefaultBuyer
		}
		return buyers[i].Name < buyers[j].Name
	})
	base := strings.TrimSuffix(r.URL.Path, RouteBuy) // "" or "/uapi/1"
	var b bytes.Buffer
	err = buyTemplate.Execute(&b, map[string]any{
		"SellerID": page.SellerID, "ItemID": page.ItemID, "Description": page.Description,
		"Quantity": page.Quantity, "Cost": page.Cost, "Total": page.Total,
		"Fields": fields, "Buyers": buyers, "Base": base,
	})
	if err != nil {
		return textResponse(http.StatusInternalServerError, err.Error())
	}
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: b.Bytes()}
}
