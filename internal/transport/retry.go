package transport

import (
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
func backoff(p paykit.RetryPolicy, attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	upper := p.MaxWait
	if attempt < 30 {
		if exp := p.MinWait << attempt; exp > 0 && exp < upper {
			upper = exp
		}
	}
	if upper <= p.MinWait {
		return p.MinWait
	}
	return p.MinWait + rand.N(upper-p.MinWait+1)
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
