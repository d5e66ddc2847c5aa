package transport

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/internal/token"
)

// eventLog records, in order, what the limiter granted and what the server received.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// steppedLimiter grants turns only when the test hands them out, one at a time.
type steppedLimiter struct {
	waiting chan chan struct{} // each Wait offers the channel its turn is granted on
	log     *eventLog
}

func (l *steppedLimiter) Wait(ctx context.Context) error {
	grant := make(chan struct{})
	select {
	case l.waiting <- grant:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-grant:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestQueuedCallersDoNotBurstAfterSlowToken: callers queued behind a slow token fetch start one
// per turn of the limiter once the token lands, rather than all together. The test hands out
// the turns one by one and, after each, waits for a request to reach the server before handing
// out the next: so each turn must be spent at once, by a request that has its token. Had the
// callers taken their turns before their tokens, the first turn would go to a caller that then
// waits for the token (whose fetch needs a turn of its own), and when the token landed every
// caller holding a turn would send together.
func TestQueuedCallersDoNotBurstAfterSlowToken(t *testing.T) {
	t.Parallel()
	const callers = 5
	log := &eventLog{}
	inToken := make(chan struct{}, callers)
	allIn := make(chan struct{})
	var arrivals atomic.Int64
	arrived := make(chan struct{}, 2*callers)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		log.add("request " + r.URL.Path + " " + r.Header.Get("Authorization"))
		arrivals.Add(1)
		arrived <- struct{}{}
		if r.URL.Path == "/token" {
			// The slow fetch: it lasts until every caller waits for its token.
			select {
			case <-allIn:
			case <-time.After(guard):
				t.Error("not every caller asked for a token")
			}
			writeJSON(w, http.StatusOK, map[string]string{"token": "tok-1"})
			return
		}
		writeJSON(w, http.StatusOK, okPayment)
	})
	lim := &steppedLimiter{waiting: make(chan chan struct{}), log: log}
	var c *Client
	src := token.NewSource(func(ctx context.Context) (token.Token, error) {
		// The token fetch is a request through the same client, like a provider's.
		var out struct{ Token string }
		if _, err := c.Do(ctx, Request{Op: "authenticate", Method: http.MethodPost, Path: "/token", Result: &out, NoAuth: true, Repeatable: true}); err != nil {
			return token.Token{}, err
		}
		return token.Token{Value: out.Token, ExpiresAt: time.Now().Add(time.Hour)}, nil
	})
	auth := &countingAuth{Authenticator: src, in: inToken}
	c = newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Auth = auth
		cfg.Settings.Limiter = lim
	})
	go func() {
		for range callers {
			select {
			case <-inToken:
			case <-time.After(guard):
				return
			}
		}
		close(allIn)
	}()

	results := make(chan error, callers)
	for range callers {
		go func() {
			var out payment
			_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Result: &out, Repeatable: true})
			results <- err
		}()
	}

	// Hand out callers+1 turns (the fetch's and one per caller), each only after the
	// previous one was spent.
	for turn := 1; turn <= callers+1; turn++ {
		var grant chan struct{}
		select {
		case grant = <-lim.waiting:
		case <-time.After(guard):
			t.Fatalf("turn %d: nobody waits for a turn; events so far: %q", turn, log.all())
		}
		log.add("turn")
		close(grant)
		select {
		case <-arrived:
		case <-time.After(guard):
			t.Fatalf("turn %d was granted but no request followed it (the turn was not spent at once); events: %q", turn, log.all())
		}
	}
	for range callers {
		select {
		case err := <-results:
			require.NoError(t, err)
		case <-time.After(guard):
			t.Fatal("a caller did not return")
		}
	}
	want := []string{"turn", "request /token "}
	for range callers {
		want = append(want, "turn", "request /x Bearer tok-1")
	}
	assert.Equal(t, want, log.all(), "each request follows its own turn")
	select {
	case <-lim.waiting:
		t.Error("a request waits for a turn beyond those needed")
	default:
	}
}

// countingAuth reports each call of Token on in before passing it on.
type countingAuth struct {
	Authenticator
	in chan struct{}
}

func (a *countingAuth) Token(ctx context.Context) (string, error) {
	a.in <- struct{}{}
	return a.Authenticator.Token(ctx)
}

// scriptedAuth hands out tok-1, tok-2, …, each fetched through the client; the test says when
// the current token is due (as if its refresh point passed).
type scriptedAuth struct {
	c *Client

	mu      sync.Mutex
	current string
	due     bool
	always  bool // every token is due as soon as it is handed out (a failed refresh)
	fetches int
}

func (a *scriptedAuth) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	if a.current != "" && !a.due {
		defer a.mu.Unlock()
		return a.current, nil
	}
	a.mu.Unlock()
	if _, err := a.c.Do(ctx, Request{Op: "authenticate", Method: http.MethodPost, Path: "/token", NoAuth: true, Repeatable: true}); err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.always && a.current != "" {
		return a.current, nil // the refresh "failed": the old, still valid token serves
	}
	a.fetches++
	a.current, a.due = fmt.Sprintf("tok-%d", a.fetches), a.always
	return a.current, nil
}

func (a *scriptedAuth) Invalidate(string) {}

func (a *scriptedAuth) Fresh(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return tok == a.current && !a.due
}

func (a *scriptedAuth) makeDue() {
	a.mu.Lock()
	a.due = true
	a.mu.Unlock()
}

// hookLimiter grants every turn at once, logs it, and calls onTurn with its number.
type hookLimiter struct {
	log    *eventLog
	n      atomic.Int64
	onTurn func(n int64)
}

func (l *hookLimiter) Wait(context.Context) error {
	n := l.n.Add(1)
	l.log.add("turn")
	if l.onTurn != nil {
		l.onTurn(n)
	}
	return nil
}

// TestTokenDueAfterTurnIsFetchedAgain: a token that became due while the caller waited for
// its turn is fetched again (a turn of its own) and the caller takes a new turn before sending;
// once at most, and not for a token that was already due when handed out.
func TestTokenDueAfterTurnIsFetchedAgain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// dueOn: the turns during which the token becomes due.
		dueOn     []int64
		always    bool
		wantToken string
		want      []string
	}{
		{"fresh throughout", nil, false, "tok-1", []string{
			"turn", "/token", "turn", "/x Bearer tok-1"}},
		{"due while waiting for the turn", []int64{2}, false, "tok-2", []string{
			"turn", "/token", "turn", "turn", "/token", "turn", "/x Bearer tok-2"}},
		{"due again after the refetch: sent, not fetched forever", []int64{2, 4}, false, "tok-2", []string{
			"turn", "/token", "turn", "turn", "/token", "turn", "/x Bearer tok-2"}},
		{"already due when handed out", nil, true, "tok-1", []string{
			"turn", "/token", "turn", "/x Bearer tok-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			log := &eventLog{}
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					log.add("/token")
				} else {
					log.add(r.URL.Path + " " + r.Header.Get("Authorization"))
				}
				writeJSON(w, http.StatusOK, okPayment)
			})
			auth := &scriptedAuth{always: tt.always}
			lim := &hookLimiter{log: log, onTurn: func(n int64) {
				for _, d := range tt.dueOn {
					if n == d {
						auth.makeDue()
					}
				}
			}}
			auth.c = newTestClient(t, srv.URL, func(cfg *Config) {
				cfg.Auth = auth
				cfg.Settings.Limiter = lim
			})
			_, err := auth.c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
			require.NoError(t, err)
			assert.Equal(t, tt.want, log.all())
		})
	}
}
