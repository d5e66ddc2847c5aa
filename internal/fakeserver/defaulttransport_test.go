package fakeserver

import (
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A test that replaced http.DefaultTransport with another RoundTripper (httpmock here) can
// still start a fake, and the fake's notifications go through that transport. Not parallel:
// it swaps a process global, and Go runs a package's parallel tests only after every
// sequential one has finished (the cleanup puts the transport back first).
func TestNewWithReplacedDefaultTransport(t *testing.T) {
	httpmock.Activate()
	t.Cleanup(httpmock.DeactivateAndReset)
	if http.DefaultTransport != httpmock.DefaultTransport {
		t.Skip("httpmock is disabled (GONOMOCKS): http.DefaultTransport was not replaced")
	}
	const hook = "https://merchant.test.example/notify"
	httpmock.RegisterResponder(http.MethodPost, hook, httpmock.NewStringResponder(http.StatusOK, "ok"))

	var f *fake
	require.NotPanics(t, func() { f = newFake(t, Config{}) })
	f.Notify(post("p1", hook))
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p1"))
	assert.Equal(t, []int{200}, statuses(f.Deliveries()[0]))
	assert.Equal(t, 1, httpmock.GetCallCountInfo()["POST "+hook], "the replaced DefaultTransport sent the notification")
	assert.False(t, f.ownNotify, "the test's transport is not the server's to close")
}
