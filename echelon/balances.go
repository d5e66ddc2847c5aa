package echelon

import (
	"context"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/transport"
)

// Balance is the merchant's balance in one currency.
type Balance struct {
	Amount paykit.Money
}

// Balances returns the merchant's balances (GET /balances?currencies=INR,IDR), in the
// currencies asked for, or in every currency when none is given. EchelonPay ignores a
// currency it does not support. The answer's shape, {"data": [{"currencyCode", "amount"}]},
// is an ASSUMPTION: the document does not show it.
func (c *Client) Balances(ctx context.Context, currencies ...string) ([]Balance, error) {
	const op = "get balances"
	path := "/balances"
	if len(currencies) > 0 {
		for _, cur := range currencies {
			if !isCurrencyCode(cur) {
				return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%q is not a currency code", cur)
			}
		}
		// The values are joined by a literal comma, as the document writes them; codes are
		// three capital letters, so nothing needs escaping.
		path += "?currencies=" + strings.Join(currencies, ",")
	}
	var out struct {
		Data []wireMoney `json:"data"`
	}
	if _, err := c.http.Do(ctx, transport.Request{Op: op, Method: "GET", Path: path, URLTemplate: "/balances", Result: &out, Repeatable: true}); err != nil {
		return nil, err
	}
	balances := make([]Balance, 0, len(out.Data))
	for i := range out.Data {
		m, err := out.Data[i].read(op, "balance")
		if err != nil {
			return nil, err
		}
		balances = append(balances, Balance{Amount: m})
	}
	return balances, nil
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
