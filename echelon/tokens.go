package echelon

import (
	"context"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/transport"
)

// TokenAction names a set of privileges POST /auth-tokens-by-action grants for one payment.
// The document confirms two; others may exist and can be given as they are.
type TokenAction string

// The actions the document publishes.
const (
	// TokenPayinCreate lets the holder choose a payment method (POST
	// /payins/!availablePaymentOptions), create the payin with the token's id (POST
	// /payins/{id}) and read it (GET /payins/{id}): what EchelonPay's payment web app needs.
	TokenPayinCreate TokenAction = "PAYIN_CREATE"
	// TokenPayinInfo lets the holder read one payin (GET /payins/{id}), e.g. from a link in
	// an e-mail.
	TokenPayinInfo TokenAction = "PAYIN_INFO"
)

// DefaultTokenValidity is how long a token from NewToken lives when TokenRequest.Validity is
// zero, and how long the web-app token of CreatePayment lives: the document's example value.
const DefaultTokenValidity = 10 * time.Minute

// TokenRequest asks for a restricted token, to hand to a browser, an app or an e-mail: either
// by Action for one payment (PaymentID), or by Operations, the calls it allows as regular
// expressions over "METHOD /path" (e.g. "GET /payins/TST-112233"). Tokens limited to one
// payment are safe to share; a token with general operations (".*") is not.
type TokenRequest struct {
	Action    TokenAction
	PaymentID string // with Action: the payment the token is limited to
	// Operations, without Action: the calls the token allows. The document's own examples
	// write an id into a path as it is; paykit escapes ids with url.PathEscape, so an id
	// with characters outside [A-Za-z0-9-._~] must be written escaped here too.
	Operations []string
	// Amount, when set, limits payments made with the token to this amount and currency.
	Amount *paykit.Money
	// Validity is how long the token lives, in whole seconds (rounded up); zero:
	// DefaultTokenValidity.
	Validity time.Duration
}

// Token is an EchelonPay auth token: a JWT to send as "Authorization: Bearer <Value>", valid
// until ExpiresAt (its exp claim). It prints without its Value.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// String hides the token's value.
func (t Token) String() string {
	return "echelon.Token{Value:" + redactedIfSet(t.Value) + " ExpiresAt:" + t.ExpiresAt.Format(time.RFC3339) + "}"
}

// GoString is String, so %#v is safe too.
func (t Token) GoString() string { return t.String() }

// LogValue prints the token for log/slog without its value.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("Value", redactedIfSet(t.Value)), slog.Time("ExpiresAt", t.ExpiresAt))
}

func redactedIfSet(s string) string {
	if s == "" {
		return `""`
	}
	return transport.Redacted
}

// NewToken asks EchelonPay for a restricted token (POST /auth-tokens-by-action with an
// Action, POST /auth-tokens with Operations). The client's own calls use a backend token of
// their own, which this does not touch.
func (c *Client) NewToken(ctx context.Context, req TokenRequest) (*Token, error) {
	return c.newToken(ctx, "new token", req)
}

func (c *Client) newToken(ctx context.Context, op string, req TokenRequest) (*Token, error) {
	validity := req.Validity
	if validity == 0 {
		validity = DefaultTokenValidity
	}
	if validity < 0 {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "validity must not be negative, got %v", req.Validity)
	}
	secs := int64((validity + time.Second - 1) / time.Second)
	body := map[string]any{
		"merchantCode": c.cfg.MerchantCode,
		"secret":       c.cfg.Secret,
		"validitySecs": secs,
	}
	path := "/auth-tokens"
	switch {
	case req.Action != "":
		if req.PaymentID == "" {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "a token by action needs a PaymentID")
		}
		if err := checkID(op, req.PaymentID); err != nil {
			return nil, err
		}
		if len(req.Operations) > 0 {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "give Action or Operations, not both")
		}
		path = "/auth-tokens-by-action"
		body["action"] = req.Action
		body["idPayment"] = req.PaymentID
	case len(req.Operations) > 0:
		if req.PaymentID != "" {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "PaymentID goes with an Action; write it into the Operations instead")
		}
		for _, o := range req.Operations {
			if o == "" {
				return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "an operation is empty")
			}
		}
		body["operations"] = req.Operations
	default:
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "a token needs an Action or Operations")
	}
	if req.Amount != nil {
		m, err := toWire(op, *req.Amount)
		if err != nil {
			return nil, err
		}
		body["money"] = m
	}

	asked := time.Now()
	var out struct {
		Token string `json:"token"`
	}
	_, err := c.http.Do(ctx, transport.Request{
		Op:           op,
		Method:       "POST",
		Path:         path,
		URLTemplate:  path,          // holds no id
		PaymentID:    req.PaymentID, // a token by action is about one payment
		Body:         body,
		Result:       &out,
		NoAuth:       true,
		SecretAnswer: true,
		// Asking for a token twice has no effect beyond a second token.
		Repeatable: true,
	})
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, perr.Errorf(op, paykit.ErrUnavailable, "the answer holds no token")
	}
	t := &Token{Value: out.Token, ExpiresAt: asked.Add(time.Duration(secs) * time.Second)}
	// The token is not verified here (it cannot be, and need not: EchelonPay verifies it);
	// only its expiry is read. Without an exp claim, the validity asked for counts from
	// before the request was sent, which is never later than the real expiry.
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(out.Token, &claims); err == nil && claims.ExpiresAt != nil {
		t.ExpiresAt = claims.ExpiresAt.Time
	}
	return t, nil
}
