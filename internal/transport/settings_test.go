package transport

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

// TestNewAppliesRetryDefaults: a Config built by hand (not through paykit.NewSettings) gets the
// same retry rule: zero waits take their defaults (no hot retry loop), a zero MaxAttempts the
// default, and negative waits are refused.
func TestNewAppliesRetryDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   paykit.RetryPolicy
		want paykit.RetryPolicy
	}{
		{"zero", paykit.RetryPolicy{}, paykit.DefaultRetryPolicy},
		{"only MaxAttempts", paykit.RetryPolicy{MaxAttempts: 5}, paykit.RetryPolicy{MaxAttempts: 5, MinWait: paykit.DefaultMinWait, MaxWait: paykit.DefaultMaxWait}},
		{"MinWait alone above the default MaxWait", paykit.RetryPolicy{MaxAttempts: 2, MinWait: 10 * time.Second}, paykit.RetryPolicy{MaxAttempts: 2, MinWait: 10 * time.Second, MaxWait: 10 * time.Second}},
		{"MaxWait alone below the default MinWait", paykit.RetryPolicy{MaxAttempts: 2, MaxWait: 50 * time.Millisecond}, paykit.RetryPolicy{MaxAttempts: 2, MinWait: 50 * time.Millisecond, MaxWait: 50 * time.Millisecond}},
		{"both kept", fastPolicy, fastPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(Config{Provider: "testprov", BaseURL: "https://api.example", Settings: paykit.Settings{Retry: tt.in}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.settings.Retry)
		})
	}
	for _, bad := range []paykit.RetryPolicy{
		{MaxAttempts: 3, MinWait: -time.Second},
		{MaxAttempts: 3, MaxWait: -time.Second},
		{MaxAttempts: 3, MinWait: time.Second, MaxWait: time.Millisecond},
	} {
		_, err := New(Config{Provider: "testprov", BaseURL: "https://api.example", Settings: paykit.Settings{Retry: bad}})
		checkKind(t, err, paykit.ErrInvalidRequest)
	}
}
