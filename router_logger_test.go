package paykit_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/logbuf"
	"github.com/paykit/paykit/internal/transport"
)

// A provider client built without WithLogger logs its HTTP attempts to the default logger,
// also when it was built before SetDefaultLogger, with provider, op and payment_id.
func TestSetDefaultLoggerReachesClients(t *testing.T) { // not parallel: it sets the process's default logger
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	settings, err := paykit.NewSettings()
	require.NoError(t, err)
	c, err := transport.New(transport.Config{Provider: "acme", BaseURL: srv.URL, Settings: settings})
	require.NoError(t, err)

	var logs logbuf.Buffer
	paykit.SetDefaultLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { paykit.SetDefaultLogger(nil) })
	_, err = c.Do(context.Background(), transport.Request{Op: "get payment", Method: "GET", Path: "/p/pay-7", PaymentID: "pay-7", Repeatable: true})
	require.NoError(t, err)
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "pay-7") {
			line = l
		}
	}
	assert.Contains(t, line, `level=DEBUG msg="paykit http attempt" provider=acme op="get payment" payment_id=pay-7`)
}
