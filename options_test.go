package paykit

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

type stubLimiter struct{ name string }

func (stubLimiter) Wait(context.Context) error { return nil }

func TestNewSettingsDefaults(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]Option{nil, {}, {nil}} {
		s, err := NewSettings(opts...)
		if err != nil {
			t.Fatalf("NewSettings(%v) error: %v", opts, err)
		}
		if s.HTTPClient != nil || s.Limiter != nil || s.UserAgent != "" {
			t.Errorf("NewSettings(%v) = %+v, want no client, limiter or user agent", opts, s)
		}
		// No logger given: the one SetDefaultLogger sets, whenever it is set.
		if _, ok := s.Logger.Handler().(*defaultHandler); !ok {
			t.Errorf("NewSettings(%v).Logger = %v, want DefaultLogger()", opts, s.Logger)
		}
		if s.Timeout != DefaultTimeout || DefaultTimeout != 30*time.Second {
			t.Errorf("Timeout = %v, want %v", s.Timeout, 30*time.Second)
		}
		want := RetryPolicy{MaxAttempts: 3, MinWait: 200 * time.Millisecond, MaxWait: 5 * time.Second}
		if s.Retry != want || DefaultRetryPolicy != want {
			t.Errorf("Retry = %+v, DefaultRetryPolicy = %+v, want %+v", s.Retry, DefaultRetryPolicy, want)
		}
	}
}

func TestNewSettingsOptions(t *testing.T) {
	t.Parallel()
	client := &http.Client{}
	logger := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	limiter := stubLimiter{"shared"}
	retry := RetryPolicy{MaxAttempts: 5, MinWait: time.Millisecond, MaxWait: time.Minute}

	tests := []struct {
		name  string
		opts  []Option
		check func(t *testing.T, s Settings)
	}{
		{"WithHTTPClient", []Option{WithHTTPClient(client)}, func(t *testing.T, s Settings) {
			if s.HTTPClient != client {
				t.Errorf("HTTPClient = %p, want %p", s.HTTPClient, client)
			}
		}},
		{"WithTimeout", []Option{WithTimeout(7 * time.Second)}, func(t *testing.T, s Settings) {
			if s.Timeout != 7*time.Second {
				t.Errorf("Timeout = %v, want 7s", s.Timeout)
			}
		}},
		{"WithRetry", []Option{WithRetry(retry)}, func(t *testing.T, s Settings) {
			if s.Retry != retry {
				t.Errorf("Retry = %+v, want %+v", s.Retry, retry)
			}
		}},
		{"WithRetry one attempt, no waits", []Option{WithRetry(RetryPolicy{MaxAttempts: 1})}, func(t *testing.T, s Settings) {
			if want := (RetryPolicy{MaxAttempts: 1, MinWait: DefaultMinWait, MaxWait: DefaultMaxWait}); s.Retry != want {
				t.Errorf("Retry = %+v, want %+v", s.Retry, want)
			}
		}},
		{"WithRateLimit", []Option{WithRateLimit(9.5, 3)}, func(t *testing.T, s Settings) {
			l, ok := s.Limiter.(*rate.Limiter)
			if !ok {
				t.Fatalf("Limiter = %T, want *rate.Limiter", s.Limiter)
			}
			if l.Limit() != 9.5 || l.Burst() != 3 {
				t.Errorf("limiter = %v/s burst %d, want 9.5/s burst 3", l.Limit(), l.Burst())
			}
		}},
		{"WithLimiter", []Option{WithLimiter(limiter)}, func(t *testing.T, s Settings) {
			if s.Limiter != limiter {
				t.Errorf("Limiter = %v, want %v", s.Limiter, limiter)
			}
		}},
		{"WithLimiter after WithRateLimit", []Option{WithRateLimit(1, 1), WithLimiter(limiter)}, func(t *testing.T, s Settings) {
			if s.Limiter != limiter {
				t.Errorf("Limiter = %v, want the later %v", s.Limiter, limiter)
			}
		}},
		{"WithLogger", []Option{WithLogger(logger)}, func(t *testing.T, s Settings) {
			if s.Logger != logger {
				t.Errorf("Logger = %p, want %p", s.Logger, logger)
			}
		}},
		{"WithUserAgent", []Option{WithUserAgent("shop/1.2")}, func(t *testing.T, s Settings) {
			if s.UserAgent != "shop/1.2" {
				t.Errorf("UserAgent = %q, want shop/1.2", s.UserAgent)
			}
		}},
		{"later option wins", []Option{WithTimeout(time.Second), nil, WithTimeout(2 * time.Second)}, func(t *testing.T, s Settings) {
			if s.Timeout != 2*time.Second {
				t.Errorf("Timeout = %v, want 2s", s.Timeout)
			}
		}},
		{"all together", []Option{
			WithHTTPClient(client), WithTimeout(time.Second), WithRetry(retry), WithLimiter(limiter),
			WithLogger(logger), WithUserAgent("ua"),
		}, func(t *testing.T, s Settings) {
			if s.HTTPClient != client || s.Timeout != time.Second || s.Retry != retry ||
				s.Limiter != limiter || s.Logger != logger || s.UserAgent != "ua" {
				t.Errorf("Settings = %+v", s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSettings(tt.opts...)
			if err != nil {
				t.Fatalf("NewSettings: %v", err)
			}
			tt.check(t, s)
		})
	}
}

func TestNewSettingsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
	}{
		{"zero timeout", []Option{WithTimeout(0)}, "WithTimeout"},
		{"negative timeout", []Option{WithTimeout(-time.Second)}, "WithTimeout"},
		{"zero attempts", []Option{WithRetry(RetryPolicy{MaxAttempts: 0})}, "MaxAttempts"},
		{"negative attempts", []Option{WithRetry(RetryPolicy{MaxAttempts: -1})}, "MaxAttempts"},
		{"negative MinWait", []Option{WithRetry(RetryPolicy{MaxAttempts: 3, MinWait: -1, MaxWait: time.Second})}, "MinWait"},
		{"MaxWait below MinWait", []Option{WithRetry(RetryPolicy{MaxAttempts: 3, MinWait: time.Second, MaxWait: time.Millisecond})}, "MaxWait"},
		{"negative MaxWait", []Option{WithRetry(RetryPolicy{MaxAttempts: 3, MaxWait: -time.Second})}, "MaxWait"},
		{"negative MaxWait, positive MinWait", []Option{WithRetry(RetryPolicy{MaxAttempts: 3, MinWait: time.Second, MaxWait: -1})}, "MaxWait"},
		{"negative MinWait, zero MaxWait", []Option{WithRetry(RetryPolicy{MaxAttempts: 3, MinWait: -1})}, "MinWait"},
		{"zero rps", []Option{WithRateLimit(0, 1)}, "WithRateLimit"},
		{"negative rps", []Option{WithRateLimit(-1, 1)}, "WithRateLimit"},
		{"NaN rps", []Option{WithRateLimit(math.NaN(), 1)}, "WithRateLimit"},
		{"infinite rps", []Option{WithRateLimit(math.Inf(1), 1)}, "WithRateLimit"},
		{"negative infinite rps", []Option{WithRateLimit(math.Inf(-1), 1)}, "WithRateLimit"},
		{"zero burst", []Option{WithRateLimit(10, 0)}, "WithRateLimit"},
		{"negative burst", []Option{WithRateLimit(10, -1)}, "WithRateLimit"},
		// An invalid option stays an error when a later one sets the same field.
		{"bad rate limit, then WithLimiter", []Option{WithRateLimit(0, 0), WithLimiter(stubLimiter{})}, "WithRateLimit"},
		{"bad rate limit, then a good one", []Option{WithRateLimit(0, 0), WithRateLimit(10, 10)}, "WithRateLimit"},
		{"bad rate limit, then WithLimiter(nil)", []Option{WithRateLimit(-5, 1), WithLimiter(nil)}, "WithRateLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewSettings(tt.opts...)
			if err == nil {
				t.Fatalf("NewSettings succeeded, want an error about %s", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewSettings error %q does not mention %s", err, tt.wantErr)
			}
		})
	}
}

// TestRetryZeroWaitsTakeDefaults: a policy that leaves MinWait or MaxWait zero gets the default
// for it, and never a zero wait (which would retry in a hot loop); when one wait is given, the
// other's default gives way so that MinWait <= MaxWait.
func TestRetryZeroWaitsTakeDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           RetryPolicy
		wantMin      time.Duration
		wantMax      time.Duration
		wantAttempts int
	}{
		{"only MaxAttempts", RetryPolicy{MaxAttempts: 5}, DefaultMinWait, DefaultMaxWait, 5},
		{"MinWait alone, below the default MaxWait", RetryPolicy{MaxAttempts: 2, MinWait: time.Second}, time.Second, DefaultMaxWait, 2},
		{"MinWait alone, above the default MaxWait", RetryPolicy{MaxAttempts: 2, MinWait: 10 * time.Second}, 10 * time.Second, 10 * time.Second, 2},
		{"MaxWait alone, above the default MinWait", RetryPolicy{MaxAttempts: 2, MaxWait: time.Minute}, DefaultMinWait, time.Minute, 2},
		{"MaxWait alone, below the default MinWait", RetryPolicy{MaxAttempts: 2, MaxWait: 50 * time.Millisecond}, 50 * time.Millisecond, 50 * time.Millisecond, 2},
		{"both given are kept", RetryPolicy{MaxAttempts: 4, MinWait: time.Nanosecond, MaxWait: 2 * time.Nanosecond}, time.Nanosecond, 2 * time.Nanosecond, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSettings(WithRetry(tt.in))
			require.NoError(t, err)
			assert.Equal(t, RetryPolicy{MaxAttempts: tt.wantAttempts, MinWait: tt.wantMin, MaxWait: tt.wantMax}, s.Retry)
			assert.Positive(t, s.Retry.MinWait, "a zero MinWait retries in a hot loop")
			assert.LessOrEqual(t, s.Retry.MinWait, s.Retry.MaxWait)

			// Normalize is the one rule, also for a policy that did not pass through NewSettings.
			p, err := tt.in.Normalize()
			require.NoError(t, err)
			assert.Equal(t, s.Retry, p)
		})
	}
}
