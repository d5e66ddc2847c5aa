package entrecard

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/paykit/paykit"
)

// The parameter names of a result, in the order they are signed, and of its signature.
const (
	ParamSellerID      = "seller_id"
	ParamID            = "id"
	ParamTotal         = "total"
	ParamTransactionID = "transaction_id"
	ParamStatus        = "status"
	ParamSignature     = "signature"
)

// resultFields are the signed result parameters in signing order.
var resultFields = [...]string{ParamSellerID, ParamID, ParamTotal, ParamTransactionID, ParamStatus}

func isResultField(k string) bool {
	switch k {
	case ParamSellerID, ParamID, ParamTotal, ParamTransactionID, ParamStatus, ParamSignature:
		return true
	}
	return false
}

// Limits of the values of a result, beyond the item id's.
const (
	maxTotalDigits         = 18 // keeps total below 10^18, well inside int64
	maxTransactionIDDigits = 20 // a 64-bit unsigned integer
	maxStatusLen           = 32
)

// Result is a transaction result Entrecard appends to the notify URL and to the success or
// cancel redirect, once verified.
type Result struct {
	SellerID string // seller_id: always the client's seller once verified
	ID       string // id: the item id of the buy link, the merchant's payment id
	Total    int64  // total: credits transferred, always cost × quantity
	// TransactionID is transaction_id, Entrecard's unique integer for the transaction, kept
	// as the decimal text that was signed. A redelivery carries the same one.
	TransactionID string
	Status        ResultStatus // status: cancelled, failed, complete, or (in future) escrow
}

// Sign returns the signature Entrecard puts on r: the lowercase hex SHA-1 of
// "seller_id=V&id=V&total=V&transaction_id=V&status=V" (each V url.QueryEscape'd) followed
// directly by the secret. With ResultQuery it lets merchants test their notify endpoint with
// genuine-looking results.
func (c *Client) Sign(r Result) string {
	return c.sign(resultMessage(r.raw()))
}

// ResultQuery returns r as the signed query Entrecard appends to a notify, success or cancel
// URL: "seller_id=…&id=…&total=…&transaction_id=…&status=…&signature=…".
func (c *Client) ResultQuery(r Result) string {
	msg := resultMessage(r.raw())
	return msg + "&" + ParamSignature + "=" + c.sign(msg)
}

func (r Result) raw() [len(resultFields)]string {
	return [...]string{r.SellerID, r.ID, strconv.FormatInt(r.Total, 10), r.TransactionID, string(r.Status)}
}

// resultMessage is the signed text of a result's values, given in resultFields order.
func resultMessage(values [len(resultFields)]string) string {
	var b strings.Builder
	b.Grow(128)
	for i, k := range resultFields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(values[i]))
	}
	return b.String()
}

// VerifyResult checks a result's signature in constant time and returns the result. Only the
// result's parameters are read (seller_id, id, total, transaction_id, status, signature), so
// the merchant's own query parameters in params do not matter.
//
// The signature is checked over the values as they came, before anything is parsed: a
// changed, added or removed value matches paykit.ErrInvalidSignature, as does a missing
// signature and a result for another seller. A correctly signed result with a value that
// cannot be read (a total that is not a number, an id Entrecard would not accept), or a
// parameter given twice, matches paykit.ErrInvalidRequest. VerifyResult records nothing and
// does not compare the total with what was asked: ParseNotification and ParseRedirect do.
func (c *Client) VerifyResult(params url.Values) (*Result, error) {
	return c.verifyResult("verify result", params)
}

func (c *Client) verifyResult(op string, params url.Values) (*Result, error) {
	if c.secret() == "" {
		return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "the Secret is not configured (a Client not made by New): every result is refused")
	}
	for _, k := range append(resultFields[:], ParamSignature) {
		if len(params[k]) > 1 {
			// Which copy was signed is anyone's guess, so none is trusted.
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the result parameter %q is given %d times", k, len(params[k]))
		}
	}
	sig := params.Get(ParamSignature)
	if sig == "" {
		return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "the result has no signature")
	}
	var raw [len(resultFields)]string
	for i, k := range resultFields {
		raw[i] = params.Get(k)
	}
	if !c.verify(resultMessage(raw), sig) {
		return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "the result's signature does not match")
	}
	if seller := c.SellerID(); raw[0] != seller {
		// Signed, but for another seller: someone shares our secret or the SellerID is
		// misconfigured. Either way it is not a result for us.
		return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "the result is for seller %q, not %q", raw[0], seller)
	}
	id, totalText, txn, status := raw[1], raw[2], raw[3], raw[4]
	if !validItemID(id) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the result's id is not an Entrecard item id")
	}
	if !isDigits(totalText, maxTotalDigits) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the result's total is not a whole number of credits")
	}
	total, _ := strconv.ParseInt(totalText, 10, 64) // cannot fail: at most 18 digits
	if !isDigits(txn, maxTransactionIDDigits) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the result's transaction_id is not an integer")
	}
	if !validStatusWord(status) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the result's status is not a status word")
	}
	return &Result{SellerID: raw[0], ID: id, Total: total, TransactionID: txn, Status: ResultStatus(status)}, nil
}

func isDigits(s string, maxLen int) bool {
	if len(s) < 1 || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validStatusWord accepts the documented words and any other short word, so that a status
// Entrecard adds later reaches the merchant as StatusUnknown instead of being refused.
func validStatusWord(s string) bool {
	if len(s) < 1 || len(s) > maxStatusLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIDByte(s[i]) {
			return false
		}
	}
	return true
}

// splitQuery splits a raw query into its "key=value" pieces. Besides '&' it splits at '?',
// because Entrecard's document appends "?seller_id=…" even to a URL that has a query already;
// a '?' inside a value would have been escaped by any encoder.
func splitQuery(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == '?' })
}

// unescapeKey returns the decoded key of a "key=value" piece; ok is false when it cannot be
// decoded (such a piece is the merchant's business, not the result's).
func unescapeKey(kv string) (string, bool) {
	k, _, _ := strings.Cut(kv, "=")
	k, err := url.QueryUnescape(k)
	return k, err == nil
}

// parseResultQuery reads the result's parameters out of a raw query or form body and returns
// the merchant's own parameters apart. A result value that cannot be decoded is an error.
func parseResultQuery(op, raw string) (result, own url.Values, err error) {
	result, own = url.Values{}, url.Values{}
	for _, kv := range splitQuery(raw) {
		k, ok := unescapeKey(kv)
		if !ok {
			continue
		}
		_, v, _ := strings.Cut(kv, "=")
		if !isResultField(k) {
			if v, err := url.QueryUnescape(v); err == nil {
				own.Add(k, v)
			}
			continue
		}
		v, err := url.QueryUnescape(v)
		if err != nil {
			return nil, nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the result parameter %q is not url-encoded", k)
		}
		result.Add(k, v)
	}
	return result, own, nil
}
