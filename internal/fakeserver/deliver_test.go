package fakeserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guard bounds every wait of these tests: it only turns a hang into a failure.
const guard = 10 * time.Second

func guardCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

// got is one request a receiver got.
type got struct {
	Method, Path, Query, ContentType, Body string
}

// receiver is a merchant's notify endpoint: it answers the n-th request (1-based) for a
// payment (the query's p, else the body) with status(payment, n).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []got
	per  map[string]int
}

func newReceiver(t *testing.T, status func(payment string, n int) int) *receiver {
	t.Helper()
	rc := &receiver{per: make(map[string]int)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		payment := r.URL.Query().Get("p")
		if payment == "" {
			payment = string(b)
		}
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, got{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(b)})
		rc.per[payment]++
		n := rc.per[payment]
		rc.mu.Unlock()
		w.WriteHeader(status(payment, n))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func always(code int) func(string, int) int { return func(string, int) int { return code } }

func (rc *receiver) received() []got {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]got(nil), rc.reqs...)
}

func (rc *receiver) count(payment string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.per[payment]
}

// post is a notification of payment to u whose body is the payment id.
func post(payment, u string) Notification {
	return Notification{
		PaymentID: payment, Event: "paid", URL: u,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(payment),
	}
}

func statuses(d Delivery) []int {
	var out []int
	for _, a := range d.Attempts {
		out = append(out, a.StatusCode)
	}
	return out
}

func TestDeliveryRetriedUntil200(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		codes []int // the receiver's answers in turn; the last one repeats
	}{
		{"200 at once", []int{200}},
		{"500 then 200", []int{500, 200}},
		{"204 is not 200", []int{204, 200}},
		{"a redirect is not followed", []int{302, 201, 404, 503, 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, func(_ string, n int) int { return tc.codes[min(n, len(tc.codes))-1] })
			f := newFake(t, Config{Retry: Retry{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}})
			f.Notify(post("p1", rc.URL+"/hook"))
			require.NoError(t, f.WaitDelivered(guardCtx(t), "p1"))

			ds := f.Deliveries()
			require.Len(t, ds, 1)
			d := ds[0]
			assert.Equal(t, tc.codes, statuses(d))
			assert.True(t, d.Delivered)
			assert.True(t, d.Done)
			assert.Equal(t, 1, d.Seq)
			assert.Equal(t, "p1", d.PaymentID)
			assert.Equal(t, "paid", d.Event)
			assert.Equal(t, http.MethodPost, d.Method)
			assert.Equal(t, rc.URL+"/hook", d.URL)
			assert.Equal(t, "p1", string(d.Body))
			for _, r := range rc.received() {
				assert.Equal(t, got{http.MethodPost, "/hook", "", "application/json", "p1"}, r, "every attempt sends the same")
			}
			assert.Len(t, rc.received(), len(tc.codes))
		})
	}
}

// The first retry waits MinWait, each later one twice as long, at most MaxWait. Timers never
// fire early, so the gaps are lower bounds whatever the machine's load.
func TestDeliveryBackoff(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ string, n int) int { return map[bool]int{true: 200, false: 500}[n == 5] })
	f := newFake(t, Config{Retry: Retry{MinWait: 20 * time.Millisecond, MaxWait: 50 * time.Millisecond}})
	f.Notify(post("p1", rc.URL))
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p1"))
	d := f.Deliveries()[0]
	require.Len(t, d.Attempts, 5)
	for i, want := range []time.Duration{20, 40, 50, 50} {
		gap := d.Attempts[i+1].Time.Sub(d.Attempts[i].Time)
		assert.GreaterOrEqual(t, gap, want*time.Millisecond, "gap %d", i)
	}
}

func TestRetryDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want Retry
	}{
		{Retry{}, Retry{DefaultRetryMinWait, DefaultRetryMaxWait, DefaultMaxAttempts}},
		{Retry{MinWait: 2 * time.Hour}, Retry{2 * time.Hour, 2 * time.Hour, DefaultMaxAttempts}},
		{Retry{MinWait: time.Second, MaxWait: time.Millisecond, MaxAttempts: 3}, Retry{time.Second, time.Second, 3}},
		{Retry{MinWait: -1, MaxWait: -1, MaxAttempts: -1}, Retry{DefaultRetryMinWait, DefaultRetryMaxWait, DefaultMaxAttempts}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.in.withDefaults(), "%+v", tc.in)
	}
}

func TestDeliveryGivesUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, always(503))
	f := newFake(t, Config{Retry: Retry{MinWait: time.Millisecond, MaxAttempts: 3}})
	f.Notify(post("p1", rc.URL))
	err := f.WaitDelivered(guardCtx(t), "p1")
	require.ErrorIs(t, err, ErrGaveUp)
	assert.Contains(t, err.Error(), "p1")
	assert.Contains(t, err.Error(), "3 attempts")
	assert.Contains(t, err.Error(), "status 503")
	assert.Equal(t, 3, rc.count("p1"))
	d := f.Deliveries()[0]
	assert.Equal(t, []int{503, 503, 503}, statuses(d))
	assert.False(t, d.Delivered)
	assert.True(t, d.Done)
}

func TestDeliveryUnreachable(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens there any more
	f := newFake(t, Config{Retry: Retry{MinWait: time.Millisecond, MaxAttempts: 2}})
	f.Notify(post("p1", dead.URL))
	err := f.WaitDelivered(guardCtx(t), "p1")
	require.ErrorIs(t, err, ErrGaveUp)
	assert.Contains(t, err.Error(), "error:")
	for _, a := range f.Deliveries()[0].Attempts {
		assert.Zero(t, a.StatusCode)
		assert.Error(t, a.Err)
	}
}

func TestWaitDeliveredErrors(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, always(200))
	tests := []struct {
		name    string
		cfg     Config
		do      func(f *fake)
		id      string
		timeout time.Duration // of WaitDelivered's context; 0: the guard
		want    error         // nil: delivered
	}{
		{
			name: "delivered", do: func(f *fake) { f.Notify(post("p1", rc.URL)) }, id: "p1",
		},
		{
			name: "no URL anywhere, nothing queued", do: func(*fake) {}, id: "p1", want: ErrNoNotifyURL,
		},
		{
			name: "a notification without a URL", do: func(f *fake) { f.Notify(post("p1", "")) }, id: "p1",
			want: ErrNoNotifyURL,
		},
		{
			name: "the payment has a URL: waits for its notification", cfg: Config{},
			do: func(f *fake) { f.SetPaymentNotifyURL("p1", rc.URL) }, id: "p1",
			timeout: 30 * time.Millisecond, want: context.DeadlineExceeded,
		},
		{
			name: "a configured URL: waits", cfg: Config{NotifyURL: rc.URL}, do: func(*fake) {}, id: "p1",
			timeout: 30 * time.Millisecond, want: context.DeadlineExceeded,
		},
		{
			name: "another payment's notification does not count", cfg: Config{NotifyURL: rc.URL},
			do: func(f *fake) { f.Notify(post("p2", "")) }, id: "p1",
			timeout: 30 * time.Millisecond, want: context.DeadlineExceeded,
		},
		{
			name: "closed with nothing queued", cfg: Config{NotifyURL: rc.URL},
			do: func(f *fake) { f.Close() }, id: "p1", want: ErrClosed,
		},
		{
			name: "queued after Close", cfg: Config{NotifyURL: rc.URL},
			do: func(f *fake) { f.Close(); f.Notify(post("p1", "")) }, id: "p1", want: ErrClosed,
		},
		{
			name: "ids compared by PaymentKey", cfg: Config{PaymentKey: strings.ToLower},
			do: func(f *fake) { f.Notify(post("AbC", rc.URL)) }, id: "aBc",
		},
		{
			name: "ids compared as they are by default",
			do:   func(f *fake) { f.Notify(post("AbC", rc.URL)); f.SetPaymentNotifyURL("abc", rc.URL) }, id: "abc",
			timeout: 30 * time.Millisecond, want: context.DeadlineExceeded,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tc.cfg)
			tc.do(f)
			ctx := guardCtx(t)
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			err := f.WaitDelivered(ctx, tc.id)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			if !errors.Is(tc.want, context.DeadlineExceeded) {
				assert.Contains(t, err.Error(), tc.id, "the error names the payment")
			}
		})
	}
}

// A payment with several notifications is delivered only when all of them are.
func TestWaitDeliveredWaitsForEveryNotification(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rc := newReceiver(t, func(_ string, n int) int {
		if n == 2 {
			<-release // the second notification hangs until the test lets it go
		}
		return 200
	})
	f := newFake(t, Config{NotifyURL: rc.URL})
	f.Notify(post("p1", ""))
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p1"))
	f.Notify(post("p1", ""))

	ctx, cancel := context.WithTimeout(guardCtx(t), 30*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, f.WaitDelivered(ctx, "p1"), context.DeadlineExceeded, "the second notification is not answered yet")
	close(release)
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p1"))
	assert.Len(t, f.Deliveries(), 2)
}

// One notification that gave up fails the wait, even when a later one was delivered.
func TestWaitDeliveredReportsAnEarlierFailure(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ string, n int) int { return map[bool]int{true: 500, false: 200}[n == 1] })
	f := newFake(t, Config{NotifyURL: rc.URL, Retry: Retry{MaxAttempts: 1}})
	f.Notify(post("p1", ""))
	require.ErrorIs(t, f.WaitDelivered(guardCtx(t), "p1"), ErrGaveUp)
	f.Notify(post("p1", ""))
	require.ErrorIs(t, f.WaitDelivered(guardCtx(t), "p1"), ErrGaveUp)
	assert.Equal(t, []bool{false, true}, []bool{f.Deliveries()[0].Delivered, f.Deliveries()[1].Delivered})
}

func TestNotifyURLs(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, always(200))
	f := newFake(t, Config{NotifyURL: rc.URL + "/configured"})
	f.SetPaymentNotifyURL("p2", rc.URL+"/p2")
	f.Notify(post("p1", ""))                 // the configured URL
	f.Notify(post("p2", ""))                 // the payment's own
	f.Notify(post("p3", rc.URL+"/explicit")) // the notification's own
	f.SetNotifyURL(rc.URL + "/changed")
	f.Notify(post("p4", "")) // the configured URL as changed
	f.SetPaymentNotifyURL("p2", "")
	f.Notify(post("p2", "")) // no payment URL any more: the configured one
	for _, id := range []string{"p1", "p2", "p3", "p4"} {
		require.NoError(t, f.WaitDelivered(guardCtx(t), id))
	}
	var urls []string
	for _, d := range f.Deliveries() {
		urls = append(urls, strings.TrimPrefix(d.URL, rc.URL))
	}
	assert.Equal(t, []string{"/configured", "/p2", "/explicit", "/changed", "/changed"}, urls)
}

func TestNotifyMethodHeaderBody(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, always(200))
	f := newFake(t, Config{})
	f.Notify(Notification{PaymentID: "p1", Method: http.MethodGet, URL: rc.URL + "/n?p=p1&status=complete"})
	f.Notify(Notification{
		PaymentID: "p2", URL: rc.URL + "/form",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte("p2"),
	})
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p1"))
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p2"))
	assert.ElementsMatch(t, []got{
		{http.MethodGet, "/n", "p=p1&status=complete", "", ""},
		{http.MethodPost, "/form", "", "application/x-www-form-urlencoded", "p2"},
	}, rc.received())
	// Deliveries returns copies.
	ds := f.Deliveries()
	ds[1].Body[0] = 'X'
	ds[1].Header.Set("Content-Type", "changed")
	assert.Equal(t, "p2", string(f.Deliveries()[1].Body))
	assert.Equal(t, "application/x-www-form-urlencoded", f.Deliveries()[1].Header.Get("Content-Type"))
}

func TestCloseStopsRetries(t *testing.T) {
	t.Parallel()
	t.Run("during a long wait", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, always(500))
		f := newFake(t, Config{NotifyURL: rc.URL, Retry: Retry{MinWait: 2 * time.Hour}})
		f.Notify(post("p1", ""))
		waitErr := make(chan error, 1)
		go func() { waitErr <- f.WaitDelivered(context.Background(), "p1") }()
		require.Eventually(t, func() bool { return rc.count("p1") == 1 }, guard, time.Millisecond)

		closed := make(chan struct{})
		go func() { f.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(guard):
			t.Fatal("Close did not end the two-hour wait")
		}
		select {
		case err := <-waitErr:
			require.ErrorIs(t, err, ErrClosed)
		case <-time.After(guard):
			t.Fatal("WaitDelivered did not return after Close")
		}
		d := f.Deliveries()[0]
		assert.True(t, d.Done)
		assert.False(t, d.Delivered)
		assert.Len(t, d.Attempts, 1)
		require.ErrorIs(t, f.WaitDelivered(guardCtx(t), "p1"), ErrClosed)
	})
	t.Run("with short waits", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, always(500))
		f := newFake(t, Config{NotifyURL: rc.URL, Retry: Retry{MinWait: time.Millisecond, MaxWait: time.Millisecond, MaxAttempts: 1 << 20}})
		f.Notify(post("p1", ""))
		require.Eventually(t, func() bool { return rc.count("p1") >= 3 }, guard, time.Millisecond)
		f.Close()
		// An attempt already on the wire when Close came may still reach the receiver after
		// the fake gave up on it; let it land, then expect nothing more.
		time.Sleep(10 * time.Millisecond)
		after := rc.count("p1")
		time.Sleep(30 * time.Millisecond) // thirty retry intervals
		assert.Equal(t, after, rc.count("p1"), "no attempt after Close returned")
		d := f.Deliveries()[0]
		assert.True(t, d.Done, "Close waited for the loop to end")
		assert.LessOrEqual(t, len(d.Attempts), after+1, "at most the attempt in flight is recorded beyond what arrived")
	})
}

func TestRedeliver(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ string, n int) int { return map[bool]int{true: 200, false: 409}[n <= 2] })
	f := newFake(t, Config{NotifyURL: rc.URL})
	ctx := guardCtx(t)

	_, err := f.Redeliver(ctx, "p1")
	require.ErrorIs(t, err, ErrUnknownPayment, "nothing to replay yet")

	f.Notify(post("p1", ""))
	require.NoError(t, f.WaitDelivered(ctx, "p1"))
	code, err := f.Redeliver(ctx, "p1")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	code, err = f.Redeliver(ctx, "p1") // the receiver answers the third copy 409
	require.NoError(t, err)
	assert.Equal(t, 409, code)

	reqs := rc.received()
	require.Len(t, reqs, 3)
	assert.Equal(t, reqs[0], reqs[1], "a replay is the same request")
	assert.Equal(t, reqs[0], reqs[2])

	ds := f.Deliveries()
	require.Len(t, ds, 3)
	assert.False(t, ds[0].Replay)
	for _, d := range ds[1:] {
		assert.True(t, d.Replay)
		assert.True(t, d.Done)
		assert.Len(t, d.Attempts, 1)
		assert.Equal(t, ds[0].Body, d.Body)
		assert.Equal(t, ds[0].URL, d.URL)
	}
	assert.Equal(t, []int{2, 3}, []int{ds[1].Seq, ds[2].Seq})
	assert.True(t, ds[1].Delivered)
	assert.False(t, ds[2].Delivered)
	// A replay that was refused does not make the payment undelivered.
	require.NoError(t, f.WaitDelivered(ctx, "p1"))

	// No URL was known: nothing to replay.
	f.SetNotifyURL("")
	f.Notify(post("p2", ""))
	_, err = f.Redeliver(ctx, "p2")
	require.ErrorIs(t, err, ErrUnknownPayment)

	f.Close()
	_, err = f.Redeliver(ctx, "p1")
	require.ErrorIs(t, err, ErrClosed)
}

func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	const n = 60
	// Each payment's first attempt fails, so that every one is retried.
	rc := newReceiver(t, func(_ string, k int) int { return map[bool]int{true: 500, false: 200}[k == 1] })
	f := newFake(t, Config{NotifyURL: rc.URL, Retry: Retry{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}})
	ctx := guardCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		id := fmt.Sprintf("pay-%02d", i)
		wg.Add(2)
		go func() { defer wg.Done(); f.Notify(post(id, "")) }()
		go func() { defer wg.Done(); errs <- f.WaitDelivered(ctx, id) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	ds := f.Deliveries()
	require.Len(t, ds, n)
	seqs := make(map[int]bool)
	for _, d := range ds {
		seqs[d.Seq] = true
		assert.Equal(t, []int{500, 200}, statuses(d), d.PaymentID)
		assert.Equal(t, 2, rc.count(d.PaymentID), d.PaymentID)
	}
	assert.Len(t, seqs, n, "every delivery has its own Seq")
}

// The notification client of the server's own is closed by Close; a client given in Config
// is used and left alone.
func TestNotifyClient(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, always(200))
	var used sync.Map
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Store(r.URL.String(), true)
		return http.DefaultTransport.RoundTrip(r)
	})}
	f := newFake(t, Config{NotifyClient: client})
	f.Notify(post("p1", rc.URL+"/x"))
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p1"))
	_, ok := used.Load(rc.URL + "/x")
	assert.True(t, ok, "Config.NotifyClient sent the notification")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
