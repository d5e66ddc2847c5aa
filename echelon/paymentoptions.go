package echelon

import (
	"context"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/transport"
)

// PaymentOption is a payment method available for an amount, with the operators (banks,
// wallets) that offer it.
type PaymentOption struct {
	Method    string // paymentMethodCode, e.g. "VAPAY"
	Operators []Operator
}

// Operator is a payment operator of a method.
type Operator struct {
	Code string // paymentOperatorCode, e.g. "BNK_000"
	Name string
}

// optionsPath is the endpoint's path, '!' included: it goes on the wire as it is, since
// url.PathEscape would write %21 and the tokens' operations name the literal path.
const optionsPath = "/payins/!availablePaymentOptions"

// PaymentOptions lists the payment methods and operators a customer can pay amount with
// (POST /payins/!availablePaymentOptions).
func (c *Client) PaymentOptions(ctx context.Context, amount paykit.Money) ([]PaymentOption, error) {
	const op = "payment options"
	money, err := toWire(op, amount)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data []struct {
			PaymentMethodCode string `json:"paymentMethodCode"`
			PaymentOperators  []struct {
				Code string `json:"code"`
				Name string `json:"name"`
			} `json:"paymentOperators"`
		} `json:"data"`
	}
	_, err = c.http.Do(ctx, transport.Request{
		Op:     op,
		Method: "POST",
		Path:   optionsPath,
		// The path holds no id: it is its own template.
		URLTemplate: optionsPath,
		Body:        map[string]any{"money": money},
		Result:      &out,
		// A question, not a create: asking twice changes nothing.
		Repeatable: true,
	})
	if err != nil {
		return nil, err
	}
	opts := make([]PaymentOption, 0, len(out.Data))
	for _, d := range out.Data {
		o := PaymentOption{Method: d.PaymentMethodCode}
		for _, op := range d.PaymentOperators {
			o.Operators = append(o.Operators, Operator{Code: op.Code, Name: op.Name})
		}
		opts = append(opts, o)
	}
	return opts, nil
}
