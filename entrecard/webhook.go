package entrecard

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/paykit/paykit"
)

// ReadNotification reads the result Entrecard delivers to the notify URL, as a GET with the
// result in the query or as a POST with it in a form body (the document does not say which),
// and returns the result to act on. The merchant's own query parameters of the notify URL
// are left out of the signature.
//
// It verifies the result (see VerifyResult: a bad or missing signature, or a result for
// another seller, matches paykit.ErrInvalidSignature), then checks that total is quantity ×
// cost of the order CreatePayment recorded (paykit.ErrAmountMismatch otherwise, and nothing
// is recorded), then records it. A result for an id the store does not know, e.g. after a
// restart with the in-memory store, is accepted and recorded as it is. A redelivered result
// (the same transaction_id) returns the result recorded first, as Entrecard's document asks.
//
// The body is read up to the handler's WithMaxBodyBytes limit (paykit.DefaultMaxBodyBytes
// when called directly) and given back to r.Body.
func (c *Client) ReadNotification(r *http.Request) (*Result, error) {
	const op = "parse notification"
	values, err := requestResult(op, r)
	if err != nil {
		return nil, err
	}
	res, err := c.verifyResult(op, values)
	if err != nil {
		return nil, err
	}
	return c.accept(r.Context(), op, res)
}

// accept checks res against the recorded order and records it, returning the first result
// recorded for its transaction.
func (c *Client) accept(ctx context.Context, op string, res *Result) (*Result, error) {
	e, ok, err := c.store.Lookup(ctx, res.ID)
	if err != nil {
		return nil, storeError(op, err)
	}
	if ok && e.Order != nil && res.Total != e.Order.Total() {
		return nil, perr.Errorf(op, paykit.ErrAmountMismatch, "result %s for payment %q has total %d EC, the payment asked for %d × %d = %d EC",
			res.TransactionID, res.ID, res.Total, e.Order.Quantity, e.Order.Cost, e.Order.Total())
	}
	first, created, err := c.store.SaveResult(ctx, *res)
	if err != nil {
		return nil, storeError(op, err)
	}
	if created {
		c.log.DebugContext(ctx, "entrecard: result recorded", "payment_id", res.ID, "transaction_id", res.TransactionID, "status", string(res.Status))
	} else {
		c.log.DebugContext(ctx, "entrecard: result redelivered; the first one stands", "payment_id", first.ID, "transaction_id", first.TransactionID, "status", string(first.Status))
	}
	return &first, nil
}

// requestResult returns the result parameters of a notify request: those of a POST's form
// body when it holds any, else those of the URL's query.
func requestResult(op string, r *http.Request) (url.Values, error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost, http.MethodPut:
		body, err := paykit.ReadNotificationBody(r)
		if err != nil {
			return nil, perr.WithOp(err, op)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if len(bytes.TrimSpace(body)) > 0 {
			if ct := r.Header.Get("Content-Type"); ct != "" {
				mt, _, err := mime.ParseMediaType(ct)
				if err != nil || mt != "application/x-www-form-urlencoded" {
					return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "a result body must be a form (application/x-www-form-urlencoded)")
				}
			}
			values, _, err := parseResultQuery(op, string(bytes.TrimSpace(body)))
			if err != nil {
				return nil, err
			}
			if len(values) > 0 {
				return values, nil
			}
		}
	default:
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "method %s: results come as GET or POST", r.Method)
	}
	values, _, err := parseResultQuery(op, r.URL.RawQuery)
	return values, err
}

// Redirect is what the buyer's browser brings back to the success or cancel URL.
type Redirect struct {
	// Result is the verified result, or nil when none came: the buyer left Entrecard before
	// a transaction was created. Only the cancel URL is visited without a result.
	Result *Result
	// Payment is the payment after Result was recorded (see GetPayment); nil without a
	// result.
	Payment *paykit.Payment
	// Params are the merchant's own query parameters of the URL, without the result's, e.g.
	// an order number the merchant put into the cancel URL to know which payment a bare
	// cancel belongs to.
	Params url.Values
}

// ReadRedirect reads the success or cancel redirect the buyer's browser makes, r being the
// merchant's incoming request. See ParseRedirect.
func (c *Client) ReadRedirect(r *http.Request) (*Redirect, error) {
	return c.parseRedirect(r.Context(), "read redirect", r.URL.RawQuery)
}

// ParseRedirect reads a success or cancel URL as the buyer's browser arrives at it. Without
// any result parameter it returns a Redirect with no Result (a cancel before a transaction
// existed). Otherwise the result is verified, checked and recorded exactly as
// ReadNotification does, so the redirect can bring a payment up to date before the
// notification arrives; a partial result (some parameters, no valid signature) matches
// paykit.ErrInvalidSignature.
func (c *Client) ParseRedirect(ctx context.Context, rawURL string) (*Redirect, error) {
	const op = "parse redirect"
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the URL, and with it the result's signature: keep it out.
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the redirect is not a URL")
	}
	return c.parseRedirect(ctx, op, u.RawQuery)
}

func (c *Client) parseRedirect(ctx context.Context, op, rawQuery string) (*Redirect, error) {
	values, own, err := parseResultQuery(op, rawQuery)
	if err != nil {
		return nil, err
	}
	rd := &Redirect{Params: own}
	if len(values) == 0 {
		return rd, nil
	}
	res, err := c.verifyResult(op, values)
	if err != nil {
		return nil, err
	}
	if rd.Result, err = c.accept(ctx, op, res); err != nil {
		return nil, err
	}
	e, ok, err := c.store.Lookup(ctx, rd.Result.ID)
	if err != nil {
		return nil, storeError(op, err)
	}
	if ok {
		rd.Payment = paymentOf(e)
	}
	return rd, nil
}
