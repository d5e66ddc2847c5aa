package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ratelimit"
)

// The Limiter is what paykit clients wait on.
var _ paykit.Limiter = (*ratelimit.Limiter)(nil)

// A limiter for EchelonPay: 10 requests in any second, with a 40 ms margin for the network.
func ExampleNew() {
	l, err := ratelimit.New(10, time.Second, ratelimit.WithMargin(40*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for range 10 { // the first 10 start at once; the 11th would wait 1.04 s
		if err := l.Wait(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	fmt.Println(l.Wait(ctx))

	_, err = ratelimit.New(0, time.Second)
	fmt.Println(err)
	// Output:
	// context deadline exceeded
	// ratelimit: New needs limit >= 1 and window > 0, got 0 and 1s
}
