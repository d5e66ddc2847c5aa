package entrecardtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// A buyer whose browser gives up during SetLatency's wait leaves the confirm unprocessed: no
// transaction, no credits moved. (The fake used to read a POST's form only after the wait,
// so it did not see the browser leave and made the purchase anyway.)
func TestLatencyCanceledConfirmIsNotProcessed(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	open(t, s, buy(rcv.URL))
	s.SetLatency(time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Confirm(ctx, item, entrecardtest.DefaultBuyer); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Confirm = %v, want the deadline", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		log := s.CallLog()
		if len(log) == 2 && log[1].Fault == entrecardtest.FaultCanceled {
			if log[1].Status != 0 || log[1].Handled != 0 {
				t.Errorf("call %+v, want neither answered nor processed", log[1])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call log %+v, want the page and one canceled confirm", log)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if n := len(s.Transactions()); n != 0 {
		t.Errorf("%d transactions after a canceled confirm", n)
	}
	if b := s.Balance(entrecardtest.DefaultBuyer); b != entrecardtest.DefaultBuyerBalance {
		t.Errorf("buyer balance %d, want %d", b, entrecardtest.DefaultBuyerBalance)
	}
}
