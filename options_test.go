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
		if s.HTTPClient != nil || s.Limiter != nil || s.Logger != nil || s.UserAgent != "" {
			t.Errorf("NewSettings(%v) = %+v, want no client, limiter, logger or user agent", opts, s)
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
			if s.Retry != (RetryPolicy{MaxAttempts: 1}) {
				t.Errorf("Retry = %+v, want one attempt", s.Retry)
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
