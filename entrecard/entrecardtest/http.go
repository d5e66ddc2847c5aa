package entrecardtest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/paykit/paykit/internal/fakeserver"
)

const contentTypeText = "text/plain; charset=utf-8"

// maxForm bounds the form bodies the fake reads.
const maxForm = 64 << 10

// response is an answer built by a handler before it goes on the wire, so that a fault can
// replace it after processing.
type response = fakeserver.Response

func textResponse(status int, text string) response {
	return response{Status: status, Header: http.Header{"Content-Type": {contentTypeText}}, Body: []byte(text + "\n")}
}

func redirectResponse(location string) response {
	r := textResponse(http.StatusSeeOther, "See "+location)
	r.Header.Set("Location", location)
	return r
}

// route finds the route of path, at the root or under /uapi/1.
func route(path string) string {
	path = strings.TrimPrefix(path, "/uapi/1")
	switch path {
	case RouteBuy, RouteConfirm, RouteCancel, RouteLeave:
		return path
	}
	return ""
}

func (s *Server) handle(r *http.Request, rt string) response {
	if rt == "" {
		return textResponse(http.StatusNotFound, "No page at "+r.URL.Path+".")
	}
	want := http.MethodPost
	if rt == RouteBuy {
		want = http.MethodGet
	}
	if r.Method != want {
		resp := textResponse(http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
		resp.Header.Set("Allow", want)
		return resp
	}
	var values url.Values
	var err error
	if rt == RouteBuy {
		values, err = url.ParseQuery(r.URL.RawQuery)
	} else {
		var body []byte
		body, err = io.ReadAll(io.LimitReader(r.Body, maxForm))
		if err == nil {
			values, err = url.ParseQuery(string(body))
		}
	}
	if err != nil {
		return textResponse(http.StatusBadRequest, "The link's parameters cannot be read.")
	}
	l, resp, ok := s.checkLink(values)
	if !ok {
		return resp
	}
	switch rt {
	case RouteBuy:
		// The buyer's browser has the link open: Entrecard knows the payment from here on,
		// and where its results go.
		opened, _ := url.Parse(s.URL + r.URL.RequestURI())
		s.mu.Lock()
		s.opened[l.id] = opened
		s.mu.Unlock()
		s.fake.SetPaymentNotifyURL(l.id, l.notify)
		return textResponse(http.StatusOK, l.page())
	case RouteConfirm:
		return s.purchase(l, values.Get("buyer"), false)
	case RouteCancel:
		return s.purchase(l, values.Get("buyer"), true)
	default: // RouteLeave
		// The buyer bails out before a transaction exists: back to the cancel URL, no result.
		return redirectResponse(l.cancel)
	}
}

// link is a buy link whose signature and fields were checked.
type link struct {
	seller, id, description string
	quantity                int
	cost                    int64
	notify, success, cancel string
}

func (l link) total() int64 { return int64(l.quantity) * l.cost }

// page is what the /buy page shows the buyer before they confirm.
func (l link) page() string {
	return fmt.Sprintf("Entrecard: confirm your purchase\nseller: %s\nitem: %s\ndescription: %s\nquantity: %d\ncost: %d\ntotal: %d\nnotify: %s\nsuccess: %s\ncancel: %s",
		l.seller, l.id, l.description, l.quantity, l.cost, l.total(), l.notify, l.success, l.cancel)
}

// checkLink checks a buy link's parameters as Entrecard would: the seller and the signature
// (403), then every field (400).
func (s *Server) checkLink(v url.Values) (link, response, bool) {
	for _, k := range append(linkFields[:], "signature") {
		if len(v[k]) > 1 {
			return link{}, textResponse(http.StatusBadRequest, "The parameter "+k+" is given more than once."), false
		}
	}
	values := make([]string, len(linkFields))
	for i, k := range linkFields {
		values[i] = v.Get(k)
	}
	s.mu.Lock()
	sl, known := s.sellers[values[0]]
	var secret string
	if known {
		secret = sl.secret
	}
	s.mu.Unlock()
	if !known {
		return link{}, textResponse(http.StatusForbidden, "Unknown seller."), false
	}
	sig := v.Get("signature")
	if sig == "" || !sameSignature(sig, sha1Hex(signedText(linkFields[:], values), secret)) {
		return link{}, textResponse(http.StatusForbidden, "The link's signature does not match."), false
	}
	l := link{seller: values[0], id: values[1], description: values[2], notify: values[5], success: values[6], cancel: values[7]}
	bad := func(msg string) (link, response, bool) {
		return link{}, textResponse(http.StatusBadRequest, msg), false
	}
	if !matches(l.id, 32, "") {
		return bad("The item id must be 1 to 32 characters of A-Z, a-z, 0-9, _ and -.")
	}
	if !matches(l.description, 64, " .,") {
		return bad("The description must be 1 to 64 characters of A-Z, a-z, 0-9, _, -, space, . and ,.")
	}
	q, err := strconv.Atoi(values[3])
	if err != nil || q < 1 || !digitsOnly(values[3]) {
		return bad("The quantity must be a whole number of at least 1.")
	}
	c, err := strconv.ParseInt(values[4], 10, 64)
	if err != nil || c <= 1 || !digitsOnly(values[4]) {
		return bad("The cost must be a whole number of credits greater than 1.")
	}
	if c > (1<<62)/int64(q) {
		return bad("The total is too large.")
	}
	l.quantity, l.cost = q, c
	for _, u := range [...]struct{ name, v string }{{"notify", l.notify}, {"success", l.success}, {"cancel", l.cancel}} {
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return bad("The " + u.name + " URL must be an absolute http(s) URL.")
		}
	}
	return l, response{}, true
}

// matches reports whether s is 1 to n characters of [A-Za-z0-9_-] and extra.
func matches(s string, n int, extra string) bool {
	if len(s) < 1 || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-' || strings.IndexByte(extra, b) >= 0) {
			return false
		}
	}
	return true
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// malformed turns resp into a 200 whose body is the real one cut short, with no redirect.
func malformed(resp response) response {
	body := resp.Body[:len(resp.Body)/3]
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: append([]byte("<html><body>"), body...)}
}
