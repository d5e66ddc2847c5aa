package ecster_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

const mockBase = "https://ecster.test/rest/public"

// mockClient is a client whose requests go to httpmock.
func mockClient(t *testing.T) (*ecster.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := ecster.New(ecster.Config{APIKey: "api-key-mock", MerchantKey: "merchant-key-mock", BaseURL: mockBase},
		paykit.WithHTTPClient(&http.Client{Transport: mt}), paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	return c, mt
}

// Ecster's error object becomes *paykit.Error: Code in decimal, 4424 ErrUnprocessable
// whatever the HTTP status, 401 and 403 ErrUnauthorized.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		status             int
		body               string
		kind               error
		code, typ, message string
	}{
		{"4424 with 422", 422, `{"code":4424,"type":"Unprocessable request","message":"Order is not in a valid state"}`, paykit.ErrUnprocessable, "4424", "Unprocessable request", "Order is not in a valid state"},
		{"4424 with 400", 400, `{"code":4424,"type":"Input validation error"}`, paykit.ErrUnprocessable, "4424", "Input validation error", ""},
		{"4424 with 409", 409, `{"code":4424,"type":"Conflict"}`, paykit.ErrUnprocessable, "4424", "Conflict", ""},
		{"4424 with 500", 500, `{"code":4424,"type":"Error"}`, paykit.ErrUnprocessable, "4424", "Error", ""},
		{"4424 as a string", 400, `{"code":"4424","type":"x"}`, paykit.ErrUnprocessable, "4424", "x", ""},
		{"400", 400, `{"code":4000,"type":"Input validation error","message":"amount"}`, paykit.ErrInvalidRequest, "4000", "Input validation error", "amount"},
		{"401", 401, `{"code":4011,"type":"Authentication error"}`, paykit.ErrUnauthorized, "4011", "Authentication error", ""},
		{"403", 403, `{"code":4030,"type":"No access"}`, paykit.ErrUnauthorized, "4030", "No access", ""},
		{"404", 404, `{"code":4040,"type":"Reference not found"}`, paykit.ErrNotFound, "4040", "Reference not found", ""},
		{"422 other code", 422, `{"code":4220,"type":"Unprocessable request"}`, paykit.ErrUnprocessable, "4220", "Unprocessable request", ""},
		{"429", 429, `{"code":4290,"type":"Too many requests"}`, paykit.ErrRateLimited, "4290", "Too many requests", ""},
		{"500", 500, `{"code":5000,"type":"Could not complete operation"}`, paykit.ErrUnavailable, "5000", "Could not complete operation", ""},
		{"503", 503, `{"code":5030,"type":"Service unavailable"}`, paykit.ErrUnavailable, "5030", "Service unavailable", ""},
		{"fallback body", 400, `{"error":"bad_request","message":"no"}`, paykit.ErrInvalidRequest, "", "", "bad_request: no"},
		{"not JSON", 502, `<html>Bad gateway</html>`, paykit.ErrUnavailable, "", "", ""},
		{"403 without body", 403, ``, paykit.ErrUnauthorized, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := mockClient(t)
			mt.RegisterResponder("GET", mockBase+"/v1/orders/o1", httpmock.NewStringResponder(tt.status, tt.body))
			_, err := c.GetOrder(context.Background(), "o1")
			require.ErrorIs(t, err, tt.kind)
			var pe *paykit.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.status, pe.StatusCode)
			assert.Equal(t, tt.code, pe.Code)
			assert.Equal(t, tt.typ, pe.Type)
			assert.Equal(t, tt.message, pe.Message)
			assert.Equal(t, ecster.ProviderName, pe.Provider)
			assert.Equal(t, "get order", pe.Op)
		})
	}
}

// The same mapping reaches the Provider's operations, and the fake answers as Ecster:
// a bad API key is 401, a bad merchant key 403.
func TestErrorMappingAgainstTheFake(t *testing.T) {
	t.Parallel()
	srv := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(srv.Close)
	ctx := ctxT(t)
	for name, keys := range map[string][2]string{
		"wrong api key":      {"wrong", ecstertest.DefaultMerchantKey},
		"wrong merchant key": {ecstertest.DefaultAPIKey, "wrong"},
	} {
		c, err := ecster.New(ecster.Config{APIKey: keys[0], MerchantKey: keys[1], BaseURL: srv.URL})
		require.NoError(t, err)
		_, err = c.GetPayment(ctx, "order-1")
		require.ErrorIs(t, err, paykit.ErrUnauthorized, name)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "order-1", pe.PaymentID)
		assert.NotContains(t, err.Error(), "wrong", "the key is redacted")
	}
	_, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: srv.URL})
	require.NoError(t, err)
}

// GETs are retried on 5xx; a GET that keeps failing is ErrUnavailable.
func TestGetsAreRetried(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	before := srv.Calls(http.MethodGet, ecstertest.RouteOrders)
	srv.FailNext(2, http.StatusServiceUnavailable, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrders))
	p, err := c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusAuthorized, p.Status)
	assert.Equal(t, before+3, srv.Calls(http.MethodGet, ecstertest.RouteOrders))

	srv.FailNext(3, http.StatusInternalServerError, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrders))
	_, err = c.GetPayment(ctx, id)
	require.ErrorIs(t, err, paykit.ErrUnavailable)
}
