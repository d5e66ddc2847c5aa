package echelon

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

// webAppPayment is a pending web-app payment as CreatePayment makes it, its token ending at
// expires.
func webAppPayment(id string, expires time.Time) *paykit.Payment {
	return &paykit.Payment{
		Provider: ProviderName, ID: id, Reference: id, Amount: paykit.Money{Amount: 100, Currency: "INR"},
		Status: paykit.StatusPending, ExpiresAt: expires,
		Action: &paykit.Action{Type: paykit.ActionClientToken, Token: "token-of-" + id},
	}
}

// TestWebAppMemoryIsBounded: the memory of web-app payments holds at most its size, forgets
// the oldest first, forgets a payment whose token has expired, and answers copies.
func TestWebAppMemoryIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := newWebAppMemory(3)
	m.now = func() time.Time { return now }
	for i := range 5 {
		m.put(webAppPayment(fmt.Sprint("p-", i), now.Add(time.Duration(10+i)*time.Minute)))
	}
	assert.Equal(t, 3, m.len())
	for i := range 5 {
		_, ok := m.get(fmt.Sprint("p-", i))
		assert.Equal(t, i >= 2, ok, "p-%d: the two oldest are forgotten", i)
	}

	// A new token for a remembered id replaces it and makes it the newest.
	m.put(webAppPayment("p-2", now.Add(20*time.Minute)))
	m.put(webAppPayment("p-5", now.Add(20*time.Minute)))
	_, ok := m.get("p-2")
	assert.True(t, ok)
	_, ok = m.get("p-3")
	assert.False(t, ok, "p-3 is the oldest now")

	// A copy: the caller's changes do not reach the memory.
	p, ok := m.get("p-2")
	require.True(t, ok)
	p.Action.Token = "changed"
	p, _ = m.get("p-2")
	assert.Equal(t, "token-of-p-2", p.Action.Token)

	// Its token expired: forgotten.
	now = now.Add(14 * time.Minute)
	_, ok = m.get("p-4")
	assert.False(t, ok, "p-4's token ended at 14 minutes")
	assert.Equal(t, 2, m.len())
	now = now.Add(10 * time.Minute)
	m.put(webAppPayment("p-6", now.Add(10*time.Minute)))
	assert.Equal(t, 1, m.len(), "expired entries go when a new one comes")

	m.forget("p-6")
	assert.Equal(t, 0, m.len())

	c, err := New(Config{MerchantCode: "M-mem", Secret: "s", BaseURL: "https://api.test.example"})
	require.NoError(t, err)
	assert.Equal(t, webAppMemorySize, c.webApp.max, "every Client's memory is bounded")
	var zero *webAppMemory // a Client not made by New
	zero.put(webAppPayment("x", now.Add(time.Hour)))
	_, ok = zero.get("x")
	assert.False(t, ok)
}

// TestWebAppMemoryCost measures what a full memory costs, with tokens of the size EchelonPay's
// JWTs have (about 1.1 KB a payment, 4.5 MB for 4,096), and checks it against a bound with room
// for the noise of a heap measurement: under 2 KB a payment.
func TestWebAppMemoryCost(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a full memory")
	}
	token := strings.Repeat("x", 600) // a JWT by action with operations and money: ~500-600 bytes
	expires := time.Now().Add(time.Hour)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := newWebAppMemory(webAppMemorySize)
	for i := range webAppMemorySize {
		p := webAppPayment(fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), expires)
		p.Action.Token = strings.Clone(token) // each entry holds its own, as real tokens differ
		m.put(p)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Equal(t, webAppMemorySize, m.len())
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / webAppMemorySize
	t.Logf("%d web-app payments: %.0f bytes each, %.1f MB in all", webAppMemorySize, perEntry, perEntry*webAppMemorySize/1e6)
	assert.Less(t, perEntry, 2048.0)
	runtime.KeepAlive(m)
}

// TestNoLimitSkipsTheMerchantLimiter: with paykit.WithLimiter(paykit.NoLimit) the merchant's
// default 10-per-second limiter is never made, so nothing waits on it: 25 GETs against
// httpmock are all answered, and the shared limiter of that merchant does not exist
// afterwards. Without the option the same New makes it.
func TestNoLimitSkipsTheMerchantLimiter(t *testing.T) {
	t.Parallel()
	const base = "https://api.nolimit.example"
	key := limiterKey{base, "M-nolimit-internal"}
	exists := func() bool {
		limiters.mu.Lock()
		defer limiters.mu.Unlock()
		_, ok := limiters.m[key]
		return ok
	}
	hc := &http.Client{}
	c, err := New(Config{MerchantCode: key.merchant, Secret: "s", BaseURL: base}, paykit.WithHTTPClient(hc), paykit.WithLimiter(paykit.NoLimit))
	require.NoError(t, err)
	mt := httpmock.NewMockTransport()
	hc.Transport = mt
	mt.RegisterResponder("POST", base+"/auth-tokens", httpmock.NewStringResponder(200, `{"token":"mock-token"}`))
	mt.RegisterResponder("GET", base+"/payins/p-1", httpmock.NewStringResponder(404, `{"code":"NOT_FOUND","message":"No payin p-1."}`))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 25 {
		_, err := c.GetPayin(ctx, "p-1")
		require.ErrorIs(t, err, paykit.ErrNotFound)
	}
	assert.Equal(t, 26, mt.GetTotalCallCount())
	assert.False(t, exists(), "the merchant's limiter was never made, so never waited on")

	_, err = New(Config{MerchantCode: key.merchant, Secret: "s", BaseURL: base})
	require.NoError(t, err)
	assert.True(t, exists(), "without NoLimit the merchant's limiter is made")
}
