package transport

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

// A merchant's test activates httpmock on its own client after New: the client is used as
// given, so the mock answers and nothing reaches the network (a copy made in New would
// have kept the real transport and looked up the host). Not parallel: httpmock's mock
// transport is a process global.
func TestWithHTTPClientIsUsedAsGiven(t *testing.T) {
	hc := &http.Client{}
	settings, err := paykit.NewSettings(paykit.WithHTTPClient(hc), paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	c, err := New(Config{Provider: "test", BaseURL: "https://api.paykit.invalid", Settings: settings})
	require.NoError(t, err)

	httpmock.ActivateNonDefault(hc)
	t.Cleanup(httpmock.DeactivateAndReset)
	httpmock.RegisterResponder(http.MethodGet, "https://api.paykit.invalid/things/1",
		httpmock.NewStringResponder(200, `{"id":"1"}`))

	var out struct{ ID string }
	_, err = c.Do(context.Background(), Request{Op: "get thing", Method: http.MethodGet, Path: "/things/1", Result: &out, Repeatable: true})
	require.NoError(t, err)
	assert.Equal(t, "1", out.ID)
	assert.Equal(t, 1, httpmock.GetTotalCallCount())
	assert.Nil(t, (&http.Client{}).Transport, "the merchant's client is not changed")
	_, isMock := hc.Transport.(*httpmock.MockTransport)
	assert.True(t, isMock, "the merchant's own transport stays in place")
}
