package paykit

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBankTransferActionJSON(t *testing.T) {
	t.Parallel()
	a := Action{Type: ActionBankTransfer, Transfer: &BankTransfer{
		BankName: "Bank Mandiri", AccountNumber: "8808123456789012", Reference: "PAY-42",
		Amount: Money{Amount: 5000000, Currency: "IDR"}, ExpiresAt: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
	}}
	b, err := json.Marshal(a)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"bank_transfer","transfer":{"bank_name":"Bank Mandiri","account_number":"8808123456789012",
		"reference":"PAY-42","amount":{"amount":5000000,"currency":"IDR"},"expires_at":"2026-12-05T12:00:00Z"}}`, string(b))
	var back Action
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, a, back)
}

func TestNoLimit(t *testing.T) {
	t.Parallel()
	s, err := NewSettings(WithLimiter(NoLimit))
	require.NoError(t, err)
	require.Equal(t, NoLimit, s.Limiter)
	for range 1000 {
		require.NoError(t, NoLimit.Wait(context.Background()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, NoLimit.Wait(ctx), context.Canceled)
}
