package echelon_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/internal/safeprint"
)

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		cfg  echelon.Config
		opts []paykit.Option
	}{
		"no merchant code": {cfg: echelon.Config{Secret: "s"}},
		"no secret":        {cfg: echelon.Config{MerchantCode: "M"}},
		"plain http":       {cfg: echelon.Config{MerchantCode: "M", Secret: "s", BaseURL: "http://api.echelonpay.com"}},
		"not a URL":        {cfg: echelon.Config{MerchantCode: "M", Secret: "s", BaseURL: "::"}},
		"bad option":       {cfg: echelon.Config{MerchantCode: "M", Secret: "s"}, opts: []paykit.Option{paykit.WithTimeout(-1)}},
	} {
		_, err := echelon.New(c.cfg, c.opts...)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe, name)
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
		assert.Equal(t, echelon.ProviderName, pe.Provider, name)
	}
	c, err := echelon.New(echelon.Config{MerchantCode: "M", Secret: "s", BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err, "http on loopback is for fakes")
	assert.Equal(t, "echelon", c.Name())
}

func TestPrintsWithoutSecrets(t *testing.T) {
	t.Parallel()
	cfg := echelon.Config{MerchantCode: "M-42", Secret: "merchant-secret-value", NotifySecret: "notify-secret-value", PaymentMethod: "VAPAY"}
	c, err := echelon.New(cfg)
	require.NoError(t, err)
	forms := append(safeprint.Forms(cfg), safeprint.Forms(c)...)
	forms = append(forms, fmt.Sprintf("%v %+v %#v", echelon.Token{Value: "eyJ.jwt.value", ExpiresAt: time.Unix(0, 0)},
		echelon.Token{Value: "eyJ.jwt.value"}, echelon.Token{Value: "eyJ.jwt.value"}))
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("t", "token", echelon.Token{Value: "eyJ.jwt.value"})
	forms = append(forms, buf.String())
	for _, f := range forms {
		assert.NotContains(t, f, "merchant-secret-value")
		assert.NotContains(t, f, "notify-secret-value")
		assert.NotContains(t, f, "eyJ.jwt.value")
	}
	assert.Contains(t, fmt.Sprint(cfg), "M-42")
	assert.Contains(t, fmt.Sprint(c), "VAPAY")
}

func TestEveryRequestSendsTheAPIVersion(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	rec, opt := recording()
	c := newClient(t, fake, echelon.Config{PaymentMethod: "VAPAY"}, opt)
	ctx := guard(t)
	_, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "v-1", Amount: inr(10)})
	require.NoError(t, err)
	_, err = c.NewToken(ctx, echelon.TokenRequest{Action: echelon.TokenPayinInfo, PaymentID: "v-1"})
	require.NoError(t, err)
	_, err = c.Balances(ctx, "INR")
	require.NoError(t, err)
	_, err = c.PaymentOptions(ctx, inr(10))
	require.NoError(t, err)
	calls := rec.all()
	require.Len(t, calls, 5)
	for _, call := range calls {
		assert.Equal(t, "2", call.header.Get("X-API-Version"), call.uri)
		assert.Equal(t, "application/json", call.header.Get("Accept"), call.uri)
		if strings.HasPrefix(call.uri, "/auth-tokens") {
			assert.Empty(t, call.header.Get("Authorization"), "token requests carry the credentials in the body")
		} else {
			assert.True(t, strings.HasPrefix(call.header.Get("Authorization"), "Bearer ey"), call.uri)
		}
	}
}

// TestDefaultLimiterWindow: 40 callers on two clients of the same merchant against the fake,
// which answers 429 to the 11th request in any second. Counted from the fake's call log, no
// 1-second window saw more than 10 requests (token requests included), and none was refused.
func TestDefaultLimiterWindow(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("about 4 seconds of throttled load")
	}
	fake := newFake(t, echelontest.Config{RateLimit: echelontest.DefaultRateLimit})
	cfg := fakeConfig(fake)
	// The default limiter (no WithLimiter), shared by the two clients of one merchant.
	a, err := echelon.New(cfg)
	require.NoError(t, err)
	b, err := echelon.New(cfg)
	require.NoError(t, err)
	_, err = a.CreatePayin(guard(t), echelon.PayinRequest{ID: "w-1", Amount: inr(1), Method: "VAPAY"})
	require.NoError(t, err)

	const callers = 40
	ctx := guard(t)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetPayin(ctx, "w-1")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	log := fake.CallLog()
	require.Len(t, log, callers+3, "the create, 40 payins and one token per client")
	times := make([]time.Time, len(log))
	for i, call := range log {
		assert.NotEqual(t, 429, call.Status, "%s %s throttled", call.Method, call.Path)
		times[i] = call.Time
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	most := 0
	for i := range times {
		n := sort.Search(len(times), func(j int) bool { return !times[j].Before(times[i].Add(time.Second)) }) - i
		most = max(most, n)
	}
	assert.LessOrEqual(t, most, 10, "requests in the busiest 1-second window")
	// Under load each start waits for the one ten places before it: the sustained rate is
	// 10 over the mean of those gaps.
	var gaps time.Duration
	for i := 10; i < len(times); i++ {
		gaps += times[i].Sub(times[i-10])
	}
	mean := gaps / time.Duration(len(times)-10)
	t.Logf("%d requests in %v: at most %d in any 1-second window; 10 starts per %v, %.2f requests/s sustained",
		len(times), times[len(times)-1].Sub(times[0]).Round(time.Millisecond), most, mean.Round(time.Millisecond), 10/mean.Seconds())
}

func TestWithLimiterReplacesTheDefault(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	lim := &countingLimiter{}
	c, err := echelon.New(fakeConfig(fake), paykit.WithLimiter(lim))
	require.NoError(t, err)
	ctx := guard(t)
	start := time.Now()
	for i := range 45 {
		_, err := c.GetPayin(ctx, fmt.Sprint("none-", i))
		require.ErrorIs(t, err, paykit.ErrNotFound)
	}
	assert.Equal(t, 46, lim.count(), "every request, the token's included, took a turn of the given limiter")
	assert.Equal(t, 46, len(fake.CallLog()))
	// Not a timing assertion on speed: 46 requests through the default limiter could not
	// take less than 4.16 seconds (10 per 1.04 s); through the given one nothing waits, and
	// 46 loopback requests take a few milliseconds each even on a busy machine.
	assert.Less(t, time.Since(start), 4*time.Second)
}

func TestLimiterErrorIsNotSent(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c, err := echelon.New(fakeConfig(fake), paykit.WithLimiter(failingLimiter{}), paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.GetPayin(guard(t), "x")
	require.Error(t, err)
	assert.Empty(t, fake.CallLog())
}

type failingLimiter struct{}

func (failingLimiter) Wait(context.Context) error { return errors.New("shared budget unreachable") }

// TestSlowTokenFetchDoesNotBurst: callers that queue behind a slow token fetch get their
// token first and their turn after, so they do not all start together when it lands (DESIGN
// rule 3): still no window with more than 10 requests, and no 429.
func TestSlowTokenFetchDoesNotBurst(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("about 3 seconds of throttled load")
	}
	fake := newFake(t, echelontest.Config{RateLimit: echelontest.DefaultRateLimit})
	fake.SetLatency(1500 * time.Millisecond) // longer than the limiter's window
	c, err := echelon.New(fakeConfig(fake))
	require.NoError(t, err)
	ctx := guard(t)
	var wg sync.WaitGroup
	for i := range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetPayin(ctx, fmt.Sprint("none-", i))
			assert.ErrorIs(t, err, paykit.ErrNotFound)
		}()
	}
	wg.Wait()
	log := fake.CallLog()
	require.Len(t, log, 26)
	times := make([]time.Time, len(log))
	for i, call := range log {
		assert.NotEqual(t, 429, call.Status)
		times[i] = call.Time
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := range times {
		n := sort.Search(len(times), func(j int) bool { return !times[j].Before(times[i].Add(time.Second)) }) - i
		require.LessOrEqual(t, n, 10, "requests in the second from %v", times[i].Sub(times[0]))
	}
}
