package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/paykit/paykit/internal/fakeserver"
)

// Faults are the faults the sandbox can put on a provider's fake, by the names the API, the
// dashboard and the CLI use. Each applies to the fake's next API calls (or, for the
// notification ones, to its notifications), exactly as the fakes' own Go controls do.
var Faults = []string{"fail-next", "unavailable-next", "rate-limit-next", "drop-next", "malformed-next", "slow", "fast", "lose-notifications", "keep-notifications"}

// Fault puts the fault named name on provider's fake.
//
//	fail-next            the next call is answered 500
//	unavailable-next     the next call is answered 503
//	rate-limit-next      the next call is answered 429 with Retry-After: 1
//	drop-next            the next call is processed, then its connection dropped (answer lost)
//	malformed-next       the next call is answered with malformed JSON
//	slow / fast          every answer waits 2 s / no wait
//	lose-notifications   every notification from now on is never sent
//	keep-notifications   notifications are sent again
func (s *Sandbox) Fault(provider, name string) (string, error) {
	c := s.controls(provider)
	if c == nil {
		return "", fmt.Errorf("unknown provider %q", provider)
	}
	switch name {
	case "fail-next":
		c.FailNext(1, http.StatusInternalServerError)
	case "unavailable-next":
		c.FailNext(1, http.StatusServiceUnavailable)
	case "rate-limit-next":
		c.FailNext(1, http.StatusTooManyRequests, fakeserver.RetryAfter("1"))
	case "drop-next":
		c.DropNext(1)
	case "malformed-next":
		c.MalformedNext(1)
	case "slow":
		c.SetLatency(2 * time.Second)
	case "fast":
		c.SetLatency(0)
	case "lose-notifications":
		c.LoseNotifications(1, 0)
	case "keep-notifications":
		c.LoseNotifications(0, 0)
	default:
		return "", fmt.Errorf("unknown control %q (faults: %v)", name, Faults)
	}
	return provider + ": " + name, nil
}
