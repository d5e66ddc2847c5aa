package entrecardtest

import (
	"crypto/sha1" //nolint:gosec // Entrecard's signature is SHA-1; the fake must speak it.
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"

	"github.com/paykit/paykit/entrecard"
)

// The fake signs on its own, not through package entrecard, so that tests running the SDK
// against it check the SDK's signing instead of comparing it with itself.

// linkFields are the signed parameters of a buy link, in the documented order.
var linkFields = [...]string{"seller", "id", "description", "quantity", "cost", "notify", "success", "cancel"}

// resultFields are the signed parameters of a result, in the documented order.
var resultFields = [...]string{"seller_id", "id", "total", "transaction_id", "status"}

// signedText joins keys and values as "k=v&k=v" with url.QueryEscape'd values, in order.
func signedText(keys []string, values []string) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(values[i]))
	}
	return b.String()
}

func sha1Hex(text, secret string) string {
	sum := sha1.Sum([]byte(text + secret)) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}

// sameSignature compares in constant time, as a careful provider would.
func sameSignature(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// SignedBuyURL builds a buy link for base (e.g. Server.URL) signed with secret, WITHOUT
// checking any field: tests use it to hand the server links the SDK would refuse to build.
func SignedBuyURL(base, sellerID, secret string, r entrecard.BuyRequest) string {
	values := []string{sellerID, r.ItemID, r.Description, strconv.Itoa(r.Quantity), strconv.FormatInt(r.Cost, 10), r.NotifyURL, r.SuccessURL, r.CancelURL}
	text := signedText(linkFields[:], values)
	return strings.TrimRight(base, "/") + "/buy?" + text + "&signature=" + sha1Hex(text, secret)
}

// ResultQuery returns r as the signed query Entrecard appends to a notify, success or cancel
// URL, signed with secret: "seller_id=…&id=…&total=…&transaction_id=…&status=…&signature=…".
// Merchants use it to test their notify endpoint without a server.
func ResultQuery(secret string, r entrecard.Result) string {
	values := []string{r.SellerID, r.ID, strconv.FormatInt(r.Total, 10), r.TransactionID, string(r.Status)}
	text := signedText(resultFields[:], values)
	return text + "&signature=" + sha1Hex(text, secret)
}

// ResultURL returns the notify URL with r's signed result appended, exactly as the fake
// requests it when it delivers r (a GET, the default NotifyMethod): ResultQuery(secret, r)
// after '?', or after '&' when notifyURL has a query already. The same text after a success
// or cancel URL is the redirect the buyer's browser comes back with. A merchant's test hands
// it to its notify handler without any server (NewResultRequest) or to
// entrecard.Client.ParseRedirect.
func ResultURL(notifyURL, secret string, r entrecard.Result) string {
	return appendQuery(notifyURL, ResultQuery(secret, r))
}

// NewResultRequest returns an incoming (server-side) GET of ResultURL(notifyURL, secret, r),
// the request the fake makes to deliver r, ready for handler.ServeHTTP(recorder, req) or
// entrecard.Client.ParseNotification (it is made with httptest.NewRequest, so it cannot be
// sent with an http.Client; GET ResultURL for that). notifyURL must be absolute.
func NewResultRequest(notifyURL, secret string, r entrecard.Result) *http.Request {
	req := httptest.NewRequest(http.MethodGet, ResultURL(notifyURL, secret, r), nil)
	req.Header.Set("User-Agent", userAgent)
	return req
}

// appendQuery appends query to u with '?', or with '&' when u has a query already.
func appendQuery(u, query string) string {
	switch {
	case !strings.Contains(u, "?"):
		return u + "?" + query
	case strings.HasSuffix(u, "?"), strings.HasSuffix(u, "&"):
		return u + query
	}
	return u + "&" + query
}
