package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard/entrecardtest"
	"github.com/paykit/paykit/internal/fakeserver"
)

// Creds are the credentials the fakes accept.
type Creds struct {
	ECreditsClientID, ECreditsSecret, ECreditsWebhookSecret string
	EcsterAPIKey, EcsterMerchantKey                         string
	EchelonMerchantCode, EchelonSecret                      string
	EntrecardSellerID, EntrecardSecret                      string
}

// Sandbox is the four fakes and their controls.
type Sandbox struct {
	ECredits  *ecreditstest.Server
	Ecster    *ecstertest.Server
	Echelon   *echelontest.Server
	Entrecard *entrecardtest.Server
	// URLs are where each provider is reached (a port of its own when one was asked for).
	URLs map[string]string
}

// forwardClient sends every notification to forwardTo (its query kept after forwardTo's),
// whatever URL the payment was created with.
func forwardClient(forwardTo string) *http.Client {
	if forwardTo == "" {
		return nil
	}
	to, _ := url.Parse(forwardTo)
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			q := r.URL.RawQuery
			u := *to
			if q != "" {
				if u.RawQuery != "" {
					u.RawQuery += "&"
				}
				u.RawQuery += q
			}
			r.URL, r.Host = &u, u.Host
			return base.RoundTrip(r)
		}),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// NewSandbox starts the fakes. forwardTo, when not empty, receives every notification;
// otherwise each goes where its payment said (eCredits, which takes no URL per payment:
// ecreditsWebhook).
func NewSandbox(c Creds, forwardTo, ecreditsWebhook string) *Sandbox {
	fc := forwardClient(forwardTo)
	if forwardTo != "" && ecreditsWebhook == "" {
		ecreditsWebhook = forwardTo
	}
	s := &Sandbox{
		ECredits: ecreditstest.NewServer(ecreditstest.Config{ClientID: c.ECreditsClientID, Secret: c.ECreditsSecret,
			WebhookSecret: c.ECreditsWebhookSecret, NotifyURL: ecreditsWebhook, NotifyClient: fc}),
		Ecster:    ecstertest.NewServer(ecstertest.Config{APIKey: c.EcsterAPIKey, MerchantKey: c.EcsterMerchantKey, NotifyClient: fc}),
		Echelon:   echelontest.NewServer(echelontest.Config{MerchantCode: c.EchelonMerchantCode, Secret: c.EchelonSecret, NotifyClient: fc}),
		Entrecard: entrecardtest.NewServer(entrecardtest.Config{Sellers: map[string]string{c.EntrecardSellerID: c.EntrecardSecret}, NotifyClient: fc}),
	}
	s.URLs = map[string]string{"ecredits": s.ECredits.URL, "ecster": s.Ecster.URL, "echelon": s.Echelon.URL, "entrecard": s.Entrecard.URL}
	return s
}

// Close stops the fakes.
func (s *Sandbox) Close() {
	s.ECredits.Close()
	s.Ecster.Close()
	s.Echelon.Close()
	s.Entrecard.Close()
}

// Providers are the providers' names, in the order the dashboard shows them.
var Providers = []string{"ecredits", "ecster", "echelon", "entrecard"}

// Actions are the controls of each provider, as the API and the CLI name them.
var Actions = map[string][]string{
	"ecredits":  {"pay", "expire", "redeliver"},
	"ecster":    {"pay", "decline", "abort", "expire", "block", "redeliver"},
	"echelon":   {"pay", "process", "fail", "expire", "cancel", "redeliver"},
	"entrecard": {"pay", "cancel", "leave", "redeliver"},
}

// Control runs action on the payment id at provider.
//
// The action "fault" takes a fault's name (see Fault) in place of a payment id: POST
// /api/ecster/fault/drop-next, or `paykit-sandbox fault ecster drop-next`.
func (s *Sandbox) Control(ctx context.Context, provider, action, id string) (string, error) {
	if action == "fault" {
		return s.Fault(provider, id)
	}
	if action == "redeliver" {
		c := s.controls(provider)
		if c == nil {
			return "", fmt.Errorf("unknown provider %q", provider)
		}
		status, err := c.Redeliver(ctx, id)
		return fmt.Sprintf("redelivered: answered %d", status), err
	}
	var out string
	var err error
	switch provider + " " + action {
	case "ecredits pay":
		out, err = s.ECredits.Pay(id)
	case "ecredits expire":
		err = s.ECredits.Expire(id)
	case "ecster pay":
		out, err = s.Ecster.Pay(id)
	case "ecster decline":
		err = s.Ecster.Decline(id)
	case "ecster abort":
		err = s.Ecster.Abort(id)
	case "ecster expire":
		err = s.Ecster.Expire(id)
	case "ecster block":
		err = s.Ecster.Block(id)
	case "echelon pay":
		out, err = s.Echelon.Pay(id)
	case "echelon process":
		err = s.Echelon.Process(id)
	case "echelon fail":
		err = s.Echelon.Fail(id)
	case "echelon expire":
		err = s.Echelon.Expire(id)
	case "echelon cancel":
		err = s.Echelon.Cancel(id)
	case "entrecard pay":
		out, err = s.Entrecard.Pay(id)
	case "entrecard cancel":
		err = s.Entrecard.Cancel(ctx, id, entrecardtest.DefaultBuyer)
	case "entrecard leave":
		err = s.Entrecard.Leave(ctx, id)
	default:
		return "", fmt.Errorf("unknown control %q of %q (known: %v)", action, provider, Actions[provider])
	}
	return out, err
}

func (s *Sandbox) controls(provider string) *fakeserver.Controls {
	switch provider {
	case "ecredits":
		return s.ECredits.Controls
	case "ecster":
		return s.Ecster.Controls
	case "echelon":
		return s.Echelon.Controls
	case "entrecard":
		return s.Entrecard.Controls
	}
	return nil
}

// Payment is one payment at one fake, as the dashboard and GET /api/payments show it.
type Payment struct {
	Provider      string         `json:"provider"`
	ID            string         `json:"id"`
	Amount        string         `json:"amount"`
	State         string         `json:"state"`
	Created       time.Time      `json:"created"`
	Notifications []Notification `json:"notifications"`
}

// Notification is one notification of a payment and the answers it got.
type Notification struct {
	Seq       int    `json:"seq"`
	Event     string `json:"event"`
	URL       string `json:"url"`
	Delivered bool   `json:"delivered"`
	Answers   []int  `json:"answers"` // the receiver's statuses, 0 for no answer
	Replay    bool   `json:"replay,omitempty"`
}

// Payments lists every payment at every fake, newest first.
func (s *Sandbox) Payments() []Payment {
	out := []Payment{} // JSON [] when there are none
	for _, r := range s.ECredits.Requests() {
		st := "pending"
		switch {
		case r.Paid():
			st = "paid"
		case !s.ECredits.Now().Before(r.ExpiresAt):
			st = "expired"
		}
		out = append(out, Payment{Provider: "ecredits", ID: r.ID, Amount: r.AmountDue.String(), State: st, Created: r.CreatedAt})
	}
	for _, c := range s.Ecster.AllCarts() {
		if !c.Open && len(s.Ecster.Carts(c.OrderReference)) > 1 && c.Key != lastKey(s.Ecster.Carts(c.OrderReference)) {
			continue // a replaced cart: its payment is listed with its newest cart
		}
		st := "cart open"
		if o, ok := s.Ecster.Order(c.OrderReference); ok {
			st = string(o.Status)
		}
		out = append(out, Payment{Provider: "ecster", ID: c.OrderReference, Amount: c.Amount.String(), State: st, Created: c.Created})
	}
	for _, p := range s.Echelon.Payins() {
		out = append(out, Payment{Provider: "echelon", ID: p.ID, Amount: p.Amount.String(), State: string(p.Status), Created: p.CreatedAt})
	}
	for _, t := range s.Entrecard.Transactions() {
		out = append(out, Payment{Provider: "entrecard", ID: t.ItemID, Amount: fmt.Sprintf("%d EC", t.Total), State: string(t.Status), Created: t.Created})
	}
	for i := range out {
		for _, d := range s.controls(out[i].Provider).Deliveries() {
			if !strings.EqualFold(d.PaymentID, out[i].ID) {
				continue
			}
			n := Notification{Seq: d.Seq, Event: d.Event, URL: d.URL, Delivered: d.Delivered, Replay: d.Replay, Answers: []int{}}
			for _, a := range d.Attempts {
				n.Answers = append(n.Answers, a.StatusCode)
			}
			out[i].Notifications = append(out[i].Notifications, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

func lastKey(carts []ecstertest.Cart) string {
	if len(carts) == 0 {
		return ""
	}
	return carts[len(carts)-1].Key
}

// Handler serves the dashboard and the JSON control API:
//
//	GET  /                                 the dashboard
//	GET  /api/payments                     every payment, JSON
//	POST /api/{provider}/{action}/{id}     a control: {"ok":true,"result":…} or 4xx {"error":…}
//	POST /control                          the dashboard's form (provider, action, id)
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = dashboard.Execute(w, map[string]any{"Payments": s.Payments(), "URLs": s.URLs, "Actions": Actions,
			"Providers": Providers, "Faults": Faults, "Message": r.URL.Query().Get("msg")})
	})
	mux.HandleFunc("GET /api/payments", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Payments())
	})
	mux.HandleFunc("POST /api/{provider}/{action}/{id}", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.Control(r.Context(), r.PathValue("provider"), r.PathValue("action"), r.PathValue("id"))
		if err != nil {
			writeJSON(w, statusOf(err), map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": out})
	})
	mux.HandleFunc("POST /control", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.Control(r.Context(), r.FormValue("provider"), r.FormValue("action"), r.FormValue("id"))
		msg := fmt.Sprintf("%s %s %s: ok %s", r.FormValue("provider"), r.FormValue("action"), r.FormValue("id"), out)
		if err != nil {
			msg = fmt.Sprintf("%s %s %s: %v", r.FormValue("provider"), r.FormValue("action"), r.FormValue("id"), err)
		}
		http.Redirect(w, r, "/?msg="+url.QueryEscape(msg), http.StatusSeeOther)
	})
	return mux
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, fakeserver.ErrUnknownPayment):
		return http.StatusNotFound
	case strings.Contains(err.Error(), "unknown control"), strings.Contains(err.Error(), "unknown provider"):
		return http.StatusBadRequest
	}
	return http.StatusConflict
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var dashboard = template.Must(template.New("dash").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>paykit sandbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
form{display:inline}button{margin:1px}.muted{color:#666;font-size:.9em}code{font-size:.9em}</style></head>
<body><h1>paykit sandbox</h1>
<p class="muted">{{range $p := .Providers}}{{$p}}: <code>{{index $.URLs $p}}</code> &nbsp; {{end}} — <a href="/">refresh</a>, JSON: <a href="/api/payments">/api/payments</a></p>
{{if .Message}}<p id="message"><strong>{{.Message}}</strong></p>{{end}}
<table><tr><th>Provider</th><th>Payment</th><th>Amount</th><th>State</th><th>Notifications (answers)</th><th>Provider's side</th></tr>
{{range $p := .Payments}}<tr><td>{{$p.Provider}}</td><td><code>{{$p.ID}}</code></td><td>{{$p.Amount}}</td><td><strong>{{$p.State}}</strong></td>
<td>{{range $p.Notifications}}#{{.Seq}} {{.Event}}{{if .Replay}} (replay){{end}} → {{range .Answers}}{{.}} {{end}}{{if .Delivered}}✓{{end}}<br>{{end}}</td>
<td>{{range index $.Actions $p.Provider}}<form method="post" action="/control"><input type="hidden" name="provider" value="{{$p.Provider}}"><input type="hidden" name="id" value="{{$p.ID}}"><button name="action" value="{{.}}">{{.}}</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="6">No payments yet: create one from your backend with the URLs and credentials above.</td></tr>{{end}}
</table>
<h2>Faults</h2>
<p class="muted">On the fake's next API call (or its notifications), as its Go controls do.</p>
<table>{{range $p := .Providers}}<tr><td>{{$p}}</td><td>{{range $.Faults}}<form method="post" action="/control"><input type="hidden" name="provider" value="{{$p}}"><input type="hidden" name="action" value="fault"><button name="id" value="{{.}}">{{.}}</button></form>{{end}}</td></tr>
{{end}}</table></body></html>`))
