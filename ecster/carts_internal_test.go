package ecster

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

// The carts a Client remembers for GetPayment's pending answer stay within their bound: past
// it the oldest half is forgotten, the newest stay.
func TestRememberedCartsAreBounded(t *testing.T) {
	t.Parallel()
	const bound = 100
	k := newCartKeys(bound)
	e := cartEntry{key: "key", amount: paykit.Money{Amount: 1, Currency: "SEK"}, created: time.Now()}
	for i := range 10 * bound {
		k.put("id-"+strconv.Itoa(i), e)
		require.LessOrEqual(t, len(k.keys), bound, "after %d puts", i+1)
	}
	for i := 10*bound - bound/2; i < 10*bound; i++ {
		got, ok := k.get("id-" + strconv.Itoa(i))
		require.True(t, ok, "a recent cart (%d) is remembered", i)
		assert.Equal(t, "key", got.key)
	}
	_, ok := k.get("id-0")
	assert.False(t, ok, "the oldest is forgotten")
}
