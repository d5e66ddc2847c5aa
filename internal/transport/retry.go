package transport

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paykit/paykit"
)

// backoff is the wait before retry number attempt (1 after the first try): exponential with
// full jitter between MinWait and min(MaxWait, MinWait·2^attempt). A provider's Retry-After
// takes precedence, also over MaxWait, because retrying sooner only earns another refusal.
// With MinWait 0 there is no exponential base, and the jitter spans [0, MaxWait].
func backoff(p paykit.RetryPolicy, attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	upper := p.MaxWait
	// MinWait·2^attempt, computed only when it cannot overflow: MinWait <= MaxWait>>attempt
	// means MinWait<<attempt <= MaxWait.
	if p.MinWait > 0 && attempt >= 0 && attempt < 63 && p.MinWait <= p.MaxWait>>attempt {
		upper = p.MinWait << attempt
	}
	if upper <= p.MinWait {
		return p.MinWait
	}
	span := upper - p.MinWait
	if span < math.MaxInt64 {
		span++ // rand.N's bound is exclusive; upper itself may be drawn
	}
	return p.MinWait + rand.N(span)
}

// ParseRetryAfter reads a Retry-After header in either form, delay-seconds or HTTP date, as a
// duration from now. Anything else, or a time in the past, is 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		const maxSecs = int64(24 * time.Hour / time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
