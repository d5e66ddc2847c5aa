package transport

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// activateHTTPMock replaces http.DefaultTransport with httpmock's for the rest of the test
// and registers one answer for GET https://api.test.example/v1/ping. It swaps a process
// global, so its callers must not call t.Parallel: Go runs a package's parallel tests only
// after every sequential one has finished, and the cleanup puts the transport back first.
func activateHTTPMock(t *testing.T) {
	t.Helper()
	httpmock.Activate()
	t.Cleanup(httpmock.DeactivateAndReset)
	if http.DefaultTransport != httpmock.DefaultTransport {
		t.Skip("httpmock is disabled (GONOMOCKS): http.DefaultTransport was not replaced")
	}
	httpmock.RegisterResponder(http.MethodGet, "https://api.test.example/v1/ping",
		httpmock.NewStringResponder(http.StatusOK, `{"id":"p-1"}`))
}

// mockedPing sends GET /v1/ping through c and checks that httpmock's responder answered it.
func mockedPing(t *testing.T, c *Client) {
	t.Helper()
	var out struct{ ID string }
	_, err := c.Do(context.Background(), Request{Op: "ping", Method: http.MethodGet, Path: "/v1/ping", Result: &out, Repeatable: true})
	require.NoError(t, err)
	assert.Equal(t, "p-1", out.ID)
	assert.Equal(t, 1, httpmock.GetCallCountInfo()["GET https://api.test.example/v1/ping"],
		"the program's replacement of http.DefaultTransport saw the request")
}

// A program that replaced http.DefaultTransport with another RoundTripper (httpmock, an
// otelhttp wrapper) can still build clients, and their requests go through its transport.
// Not parallel: it swaps http.DefaultTransport.
func TestNewWithReplacedDefaultTransport(t *testing.T) {
	activateHTTPMock(t)
	var c *Client
	require.NotPanics(t, func() { c = newTestClient(t, "https://api.test.example", nil) })
	mockedPing(t, c)
	assert.Same(t, http.DefaultTransport, DefaultHTTPTransport(), "a replaced DefaultTransport is used as it is")
}

// The same with the merchant's own HTTP client without a transport of its own: it means
// http.DefaultTransport, whatever that is. Not parallel: it swaps http.DefaultTransport.
func TestHTTPClientWithReplacedDefaultTransport(t *testing.T) {
	activateHTTPMock(t)
	var c *Client
	require.NotPanics(t, func() {
		c = newTestClient(t, "https://api.test.example", func(cfg *Config) { cfg.Settings.HTTPClient = &http.Client{} })
	})
	mockedPing(t, c)
}

// With the standard library's transport in place, a client gets a tuned clone of it: enough
// idle connections per host for concurrent callers.
func TestDefaultHTTPTransportTunesTheStandardOne(t *testing.T) {
	t.Parallel()
	std, ok := http.DefaultTransport.(*http.Transport)
	require.True(t, ok, "http.DefaultTransport is the standard library's here")
	tr, ok := DefaultHTTPTransport().(*http.Transport)
	require.True(t, ok)
	assert.NotSame(t, std, tr, "a clone: the process-wide transport is not changed")
	assert.Equal(t, 64, tr.MaxIdleConnsPerHost)
	assert.Equal(t, 256, tr.MaxIdleConns)
}
