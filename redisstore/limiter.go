package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ratelimit"
)

// startScript counts a start in the sliding window KEYS[1], a sorted set of start times in
// microseconds of Redis's clock, when fewer than ARGV[1] starts are in the last ARGV[2] µs;
// ARGV[3] names the start (unique). It answers {0, now} when it counted the start at now,
// else {how many µs to wait until the oldest start in the window leaves it, now}. TIME is
// read before any write, which Redis 3.2 to 4 allow only with effects replication (the
// default from Redis 5).
var startScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(span / 1000) + 1000)
  return {0, now}
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {math.max(1, tonumber(oldest[2]) + span - now), now}
`)

// handOverScript counts, in the sliding window KEYS[1], starts a limiter counted locally
// while Redis could not be reached: ARGV[1] is the window in µs, then pairs of a member name
// (unique) and the start's age in µs, which the script subtracts from Redis's clock. An age
// measured before the call reaches Redis makes the start look a little later than it was,
// so it blocks a little longer: the safe side. It answers how many starts it counted.
var handOverScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local span = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], now - tonumber(ARGV[i + 1]), ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], math.ceil(span / 1000) + 1000)
return (#ARGV - 1) / 2
`)

// maxMargin bounds the safety margin added to the window (see marginFor).
const maxMargin = 40 * time.Millisecond

// probeEvery is how often a limiter that fell back asks whether Redis answers again.
const probeEvery = time.Second

// marginFor is the safety margin of a window: a start is counted when Redis grants it but a
// provider counts its arrival, a moment later, and not always the same moment later. 40 ms
// covers the usual jitter on warm connections (it is the margin of paykit's local EchelonPay
// limiter); a short window gets a twenty-fifth of itself, so the margin never costs more than
// 4 % of the throughput.
func marginFor(window time.Duration) time.Duration { return min(maxMargin, window/25) }

// NewLimiter returns a paykit.Limiter that lets at most limit requests start in any window
// (widened by a margin of min(40 ms, window/25)) across every client and replica that uses a
// limiter with the same key on the same Redis: NewLimiter(rdb, "echelon:"+merchantCode, 10,
// time.Second) for EchelonPay, given to each client with paykit.WithLimiter. When Redis
// cannot be reached it falls back to a local limiter of the same limit, and returns to Redis
// when it answers again; neither switch breaks the limit as seen from one process: no window
// holds more than limit starts of this limiter, counted in Redis and locally together. The
// fallback starts as if the last window were full (its first start comes a window and the
// margin after Redis was found gone), and the return first counts in Redis the local starts
// still inside the window (see the package doc). A limit below 1 or a window of zero or less makes every Wait fail with
// paykit.ErrInvalidRequest.
func NewLimiter(rdb redis.UniversalClient, key string, limit int, window time.Duration, opts ...Option) paykit.Limiter {
	cfg := newConfig(opts)
	margin := marginFor(window)
	if limit < 1 || window <= 0 || window > time.Duration(math.MaxInt64)-margin {
		return brokenLimiter{err: &paykit.Error{Op: "redisstore: limiter", Kind: paykit.ErrInvalidRequest,
			Message: fmt.Sprintf("NewLimiter needs limit >= 1 and window > 0, got %d and %v", limit, window)}}
	}
	return &limiter{
		rdb:    rdb,
		key:    cfg.prefix + "limit:{" + key + "}",
		limit:  limit,
		window: window,
		margin: margin,
		spanUS: (window + margin).Microseconds(),
		log:    cfg.logger.With("limiter", key, "limit", limit, "window", window),
		turn:   make(chan struct{}, 1),
		name:   rand.Text()[:12],
	}
}

type limiter struct {
	rdb    redis.UniversalClient
	key    string
	limit  int
	window time.Duration
	margin time.Duration
	spanUS int64 // window + margin, in microseconds
	log    *slog.Logger

	// turn lets one caller of this process at a time ask Redis, the others queued behind
	// it, so that a full window is not asked about by every waiting goroutine at once.
	turn chan struct{}

	// name and seq make each start's member of the sorted set unique across replicas.
	name string
	seq  atomic.Uint64

	mu      sync.Mutex
	down    bool      // Redis failed: starts are counted locally
	probeAt time.Time // when to ask Redis again
	probing bool      // a probe is running
	// answered says a probe found Redis answering: the next Wait hands the local starts of
	// the window over to Redis and counts there again. The switch is made by a Wait, which
	// holds turn, and not by the probe, so that no local start can slip in between the
	// hand-over and the switch.
	answered bool
	// local is the fallback, made at the first failure: it keeps a slot per start of the
	// window, which a limiter that never falls back need not hold.
	local *ratelimit.Limiter
}

// Wait blocks until the caller may start a request, counting the start in Redis, or in the
// local limiter while Redis cannot be reached. It returns ctx's error when ctx ends first.
func (l *limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.turn }()
	for {
		local, answered := l.fallenBack()
		if answered {
			if err := l.handOver(ctx, local); err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return ctxErr
				}
				l.stayDown(ctx, err)
			} else {
				local = nil
			}
		}
		if local != nil {
			return local.Wait(ctx)
		}
		wait, err := l.ask(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			local, lerr := l.fallBack(ctx, err)
			if lerr != nil {
				return lerr
			}
			return local.Wait(ctx)
		}
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// ask runs the script once: 0 when the start was counted, else how long to wait.
func (l *limiter) ask(ctx context.Context) (time.Duration, error) {
	member := l.name + ":" + strconv.FormatUint(l.seq.Add(1), 36)
	res, err := startScript.Run(ctx, l.rdb, []string{l.key}, l.limit, l.spanUS, member).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("the limiter script answered %v", res)
	}
	if err != nil {
		return 0, err
	}
	return time.Duration(res[0]) * time.Microsecond, nil
}

// fallenBack returns the local limiter while starts are counted locally, else nil, and
// whether a probe found Redis answering. It starts a probe of Redis in the background when
// it is time to ask again.
func (l *limiter) fallenBack() (local *ratelimit.Limiter, answered bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down {
		return nil, false
	}
	if !l.answered && !l.probing && !time.Now().Before(l.probeAt) {
		l.probing = true
		go l.probe()
	}
	return l.local, l.answered
}

// fallBack switches to the local limiter after Redis failed with err, and returns it. The
// local limiter starts with a full window: this process's last starts were counted in
// Redis, and other replicas' may have been, up to the moment Redis failed.
func (l *limiter) fallBack(ctx context.Context, err error) (*ratelimit.Limiter, error) {
	l.mu.Lock()
	was := l.down
	if l.local == nil {
		local, lerr := ratelimit.New(l.limit, l.window, ratelimit.WithMargin(l.margin))
		if lerr != nil { // cannot happen: NewLimiter checked the arguments
			l.mu.Unlock()
			return nil, lerr
		}
		l.local = local
	}
	l.local.Fill()
	l.down, l.answered, l.probeAt = true, false, time.Now().Add(probeEvery)
	local := l.local
	l.mu.Unlock()
	if !was {
		l.log.WarnContext(ctx, "redisstore: Redis cannot be reached; the limiter counts starts locally until it answers", "error", err)
	}
	return local, nil
}

// handOver counts in Redis the starts of local still inside the window (those the fallback
// assumed when it filled its window included: Redis may have come back without the starts
// it counted before it failed), and then returns the limiter to Redis. The caller holds
// turn, so no local start happens meanwhile.
func (l *limiter) handOver(ctx context.Context, local *ratelimit.Limiter) error {
	if ages := local.Recent(); len(ages) > 0 {
		args := make([]any, 0, 1+2*len(ages))
		args = append(args, l.spanUS)
		for _, age := range ages {
			// Member names of their own: a hand-over repeated after a lost answer counts
			// its starts twice, which only limits more.
			args = append(args, l.name+":"+strconv.FormatUint(l.seq.Add(1), 36), age.Microseconds())
		}
		if err := handOverScript.Run(ctx, l.rdb, []string{l.key}, args...).Err(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	l.down, l.answered = false, false
	l.mu.Unlock()
	l.log.InfoContext(ctx, "redisstore: Redis answers again; the limiter counts starts in Redis")
	return nil
}

// stayDown keeps counting locally after a hand-over failed with err, and probes again later.
func (l *limiter) stayDown(ctx context.Context, err error) {
	l.mu.Lock()
	l.answered, l.probeAt = false, time.Now().Add(probeEvery)
	l.mu.Unlock()
	l.log.DebugContext(ctx, "redisstore: Redis answered a probe but not the hand-over; the limiter still counts starts locally", "error", err)
}

// probe asks Redis whether it answers; when it does, the next Wait returns the limiter to
// it.
func (l *limiter) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), probeEvery)
	defer cancel()
	err := l.rdb.Ping(ctx).Err()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.probing = false
	if err != nil {
		l.probeAt = time.Now().Add(probeEvery)
		return
	}
	l.answered = true
}

// brokenLimiter is what NewLimiter returns for an impossible limit: every Wait fails.
type brokenLimiter struct{ err error }

func (b brokenLimiter) Wait(context.Context) error { return b.err }
