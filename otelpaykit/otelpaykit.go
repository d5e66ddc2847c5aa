// Package otelpaykit makes OpenTelemetry traces and metrics of what paykit does, through
// paykit's Hooks. It is the only package of the module that imports OpenTelemetry: a
// program that does not use it does not link it.
//
//	hooks, err := otelpaykit.NewHooks() // the global TracerProvider and MeterProvider
//	client, err := ecster.New(cfg, paykit.WithHooks(hooks))
//	router, err := paykit.NewRouter(providers, routes, paykit.WithRouterHooks(hooks))
//	handler := paykit.NewWebhookHandler(client, fn, paykit.WithWebhookHooks(hooks))
//	payouts := echelonClient.PayoutWebhookHandler(onPayout, paykit.WithWebhookHooks(hooks))
//	dedup := redisstore.NewDedupStore(rdb, redisstore.WithHooks(hooks)) // and the other stores
//	rec, err := reconcile.New(router, dedup, fn, reconcile.WithHooks(hooks))
//
// # Traces
//
// One span per operation, named "<provider> <operation>" ("ecster capture", "router create
// payment", "ecredits handle notification"), with paykit.provider, paykit.operation,
// paykit.payment_id and paykit.outcome ("ok", or the error's kind as paykit.ErrorKind names
// it: "not_found", "unavailable", …; also error.type when it failed). A Router's operation
// holds the provider's; a webhook delivery's holds the provider's ParseNotification and the
// GetPayment that fetched the state, and carries paykit.webhook.verdict and
// http.response.status_code; EchelonPay's payout callbacks are "echelon payout handle
// notification". A reconciler's poll of one payment is "<provider> reconcile" ("router
// reconcile" when it reads through a Router), holding the read's operation and what fn does
// with the context it is given. Spans start from the caller's context (the pass's, for a
// reconciler): a request's span, or a span propagated into it, is their parent.
//
// Under each operation, one client span per HTTP attempt, per OpenTelemetry's HTTP client
// conventions: named "<method> <url.template>" ("GET /v1/orders/{id}"), with
// http.request.method, url.template (never the path with its ids), server.address,
// server.port, http.response.status_code, http.request.resend_count (from the second
// request of a call on) and error.type (the status code, or "timeout", "network", …). The
// attempt spans of a token fetch sit under the operation that needed the token.
//
// Events on the operation's span: paykit.limiter.wait (a wait of a millisecond or more for
// the limiter, or one it refused), paykit.token.fetch, paykit.retry.wait (with
// paykit.retry.retry_after true when the provider's Retry-After set the wait) and
// paykit.failover (taken or not, paykit.failover.reason says why).
//
// Nothing recorded holds a secret, a token, a signature, a body or an error's text: errors
// appear only as their kind.
//
// # Metrics
//
//   - paykit.operation.duration (histogram, s): paykit.provider, paykit.operation,
//     paykit.outcome.
//   - http.client.request.duration (histogram, s), per the HTTP conventions:
//     http.request.method, server.address, server.port, http.response.status_code,
//     error.type, url.template, and paykit.provider.
//   - paykit.client.retries (counter): retry waits, by paykit.provider, paykit.operation
//     and paykit.retry.retry_after.
//   - paykit.client.rate_limited (counter): 429 answers, by paykit.provider and
//     paykit.operation.
//   - paykit.limiter.wait.duration (histogram, s): every wait for a turn, by
//     paykit.provider.
//   - paykit.token.fetches (counter): waits for a token fetch, by paykit.provider and
//     paykit.outcome.
//   - paykit.webhook.deliveries (counter): by paykit.provider and paykit.webhook.verdict
//     (processed, duplicate, bad_signature, malformed, fetch_failed, fn_failed, …).
//   - paykit.router.failovers (counter): failovers taken, by paykit.failover.from,
//     paykit.failover.to and paykit.failover.reason (alert on provider_refused).
//   - paykit.store.duration (histogram, s): store calls, by paykit.store,
//     paykit.store.operation and paykit.outcome: the "dedupe" and "ownership" calls of
//     webhook handlers, Routers and reconcilers (a Claim's wait for another holder
//     included), and with redisstore.WithHooks each Redis round trip of its stores ("redis
//     dedupe", "redis ownership", "redis watch", "redis entrecard").
package otelpaykit

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/paykit/paykit"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/paykit/paykit/otelpaykit"

// Option configures NewHooks.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider records spans through tp instead of the global TracerProvider.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider records metrics through mp instead of the global MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// Attribute keys of paykit's own; the HTTP ones are OpenTelemetry's.
const (
	keyProvider      = attribute.Key("paykit.provider")
	keyOperation     = attribute.Key("paykit.operation")
	keyPaymentID     = attribute.Key("paykit.payment_id")
	keyOutcome       = attribute.Key("paykit.outcome")
	keyVerdict       = attribute.Key("paykit.webhook.verdict")
	keyWait          = attribute.Key("paykit.wait.seconds")
	keyShared        = attribute.Key("paykit.token.shared")
	keyAttempt       = attribute.Key("paykit.retry.attempt")
	keyRetryAfter    = attribute.Key("paykit.retry.retry_after")
	keyFrom          = attribute.Key("paykit.failover.from")
	keyTo            = attribute.Key("paykit.failover.to")
	keyTaken         = attribute.Key("paykit.failover.taken")
	keyReason        = attribute.Key("paykit.failover.reason")
	keyNewPaymentID  = attribute.Key("paykit.failover.new_payment_id")
	keyStore         = attribute.Key("paykit.store")
	keyStoreOp       = attribute.Key("paykit.store.operation")
	keyMethod        = attribute.Key("http.request.method")
	keyURLTemplate   = attribute.Key("url.template")
	keyServerAddress = attribute.Key("server.address")
	keyServerPort    = attribute.Key("server.port")
	keyStatusCode    = attribute.Key("http.response.status_code")
	keyResendCount   = attribute.Key("http.request.resend_count")
	keyErrorType     = attribute.Key("error.type")
)

// limiterEventMin is the shortest limiter wait that adds an event to the span: shorter
// ones are free turns, which would only clutter the trace (the histogram has them all).
const limiterEventMin = time.Millisecond

// durationBuckets are OpenTelemetry's advised bounds for http.client.request.duration, in
// seconds, used for every duration here.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

type recorder struct {
	tracer        trace.Tracer
	opDuration    metric.Float64Histogram
	httpDuration  metric.Float64Histogram
	retries       metric.Int64Counter
	rateLimited   metric.Int64Counter
	limiterWait   metric.Float64Histogram
	tokenFetches  metric.Int64Counter
	deliveries    metric.Int64Counter
	failovers     metric.Int64Counter
	storeDuration metric.Float64Histogram
}

// NewHooks returns the paykit.Hooks that record spans and metrics. Give the same *Hooks to
// every client (paykit.WithHooks), Router (paykit.WithRouterHooks), webhook handler
// (paykit.WithWebhookHooks, also for EchelonPay's PayoutWebhookHandler), reconciler
// (reconcile.WithHooks) and Redis store (redisstore.WithHooks). It fails only when the MeterProvider refuses an instrument.
func NewHooks(opts ...Option) (*paykit.Hooks, error) {
	cfg := config{}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	scope := []trace.TracerOption{trace.WithInstrumentationVersion(paykit.Version)}
	meter := cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(paykit.Version))
	r := &recorder{tracer: cfg.tp.Tracer(ScopeName, scope...)}
	var err error
	seconds := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		return h
	}
	count := func(name, unit, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		return c
	}
	r.opDuration = seconds("paykit.operation.duration", "Duration of paykit operations.")
	r.httpDuration = seconds("http.client.request.duration", "Duration of HTTP client requests.")
	r.retries = count("paykit.client.retries", "{retry}", "Requests waited on to be sent again.")
	r.rateLimited = count("paykit.client.rate_limited", "{response}", "Answers 429 Too Many Requests.")
	r.limiterWait = seconds("paykit.limiter.wait.duration", "Waits for a turn on a client's rate limiter.")
	r.tokenFetches = count("paykit.token.fetches", "{fetch}", "Waits for a bearer token fetch.")
	r.deliveries = count("paykit.webhook.deliveries", "{delivery}", "Webhook deliveries by verdict.")
	r.failovers = count("paykit.router.failovers", "{failover}", "Creates a Router moved to another provider.")
	r.storeDuration = seconds("paykit.store.duration", "Duration of calls to the stores paykit keeps state in.")
	if err != nil {
		return nil, err
	}
	return &paykit.Hooks{
		Operation:   r.operation,
		Attempt:     r.attempt,
		LimiterWait: r.limiterWaited,
		TokenFetch:  r.tokenFetch,
		RetryWait:   r.retryWait,
		Failover:    r.failover,
		Webhook:     r.webhook,
		Store:       r.store,
	}, nil
}

// outcome is "ok" for nil, else the error's kind.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return paykit.ErrorKind(err)
}

func (r *recorder) operation(ctx context.Context, op paykit.OperationStart) (context.Context, func(paykit.OperationEnd)) {
	attrs := []attribute.KeyValue{keyProvider.String(op.Provider), keyOperation.String(op.Op)}
	if op.PaymentID != "" {
		attrs = append(attrs, keyPaymentID.String(op.PaymentID))
	}
	ctx, span := r.tracer.Start(ctx, op.Provider+" "+op.Op, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	start := time.Now()
	return ctx, func(end paykit.OperationEnd) {
		d := time.Since(start)
		out := outcome(end.Err)
		if end.PaymentID != "" && end.PaymentID != op.PaymentID {
			span.SetAttributes(keyPaymentID.String(end.PaymentID))
		}
		span.SetAttributes(keyOutcome.String(out))
		if end.Err != nil {
			span.SetAttributes(keyErrorType.String(out))
			span.SetStatus(codes.Error, out)
		}
		span.End()
		r.opDuration.Record(context.WithoutCancel(ctx), d.Seconds(), metric.WithAttributes(
			keyProvider.String(op.Provider), keyOperation.String(op.Op), keyOutcome.String(out)))
	}
}

func (r *recorder) attempt(ctx context.Context, a paykit.AttemptStart) (context.Context, func(paykit.AttemptEnd)) {
	name := a.Method
	if a.URLTemplate != "" {
		name += " " + a.URLTemplate
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, keyMethod.String(a.Method), keyServerAddress.String(a.ServerAddress), keyServerPort.Int(a.ServerPort),
		keyProvider.String(a.Provider), keyOperation.String(a.Op))
	if a.URLTemplate != "" {
		attrs = append(attrs, keyURLTemplate.String(a.URLTemplate))
	}
	if a.ResendCount > 0 {
		attrs = append(attrs, keyResendCount.Int(a.ResendCount))
	}
	ctx, span := r.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(end paykit.AttemptEnd) {
		mattrs := make([]attribute.KeyValue, 0, 7)
		mattrs = append(mattrs, keyMethod.String(a.Method), keyServerAddress.String(a.ServerAddress), keyServerPort.Int(a.ServerPort),
			keyProvider.String(a.Provider))
		if a.URLTemplate != "" {
			mattrs = append(mattrs, keyURLTemplate.String(a.URLTemplate))
		}
		if end.StatusCode != 0 {
			span.SetAttributes(keyStatusCode.Int(end.StatusCode))
			mattrs = append(mattrs, keyStatusCode.Int(end.StatusCode))
		}
		if end.ErrorType != "" {
			span.SetAttributes(keyErrorType.String(end.ErrorType))
			span.SetStatus(codes.Error, end.ErrorType)
			mattrs = append(mattrs, keyErrorType.String(end.ErrorType))
		}
		span.End()
		mctx := context.WithoutCancel(ctx)
		r.httpDuration.Record(mctx, end.Duration.Seconds(), metric.WithAttributes(mattrs...))
		if end.StatusCode == 429 {
			r.rateLimited.Add(mctx, 1, metric.WithAttributes(keyProvider.String(a.Provider), keyOperation.String(a.Op)))
		}
	}
}

func (r *recorder) limiterWaited(ctx context.Context, w paykit.LimiterWait) {
	r.limiterWait.Record(context.WithoutCancel(ctx), w.Wait.Seconds(), metric.WithAttributes(keyProvider.String(w.Provider)))
	if w.Wait < limiterEventMin && w.Err == nil {
		return
	}
	attrs := []attribute.KeyValue{keyWait.Float64(w.Wait.Seconds()), keyOutcome.String(outcome(w.Err))}
	trace.SpanFromContext(ctx).AddEvent("paykit.limiter.wait", trace.WithAttributes(attrs...))
}

func (r *recorder) tokenFetch(ctx context.Context, f paykit.TokenFetch) {
	out := outcome(f.Err)
	r.tokenFetches.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(keyProvider.String(f.Provider), keyOutcome.String(out)))
	trace.SpanFromContext(ctx).AddEvent("paykit.token.fetch", trace.WithAttributes(
		keyWait.Float64(f.Wait.Seconds()), keyShared.Bool(f.Shared), keyOutcome.String(out)))
}

func (r *recorder) retryWait(ctx context.Context, w paykit.RetryWait) {
	r.retries.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(
		keyProvider.String(w.Provider), keyOperation.String(w.Op), keyRetryAfter.Bool(w.RetryAfter)))
	attrs := []attribute.KeyValue{keyAttempt.Int(w.Attempt), keyWait.Float64(w.Wait.Seconds()),
		keyRetryAfter.Bool(w.RetryAfter), keyErrorType.String(errorType(w.StatusCode, w.Err))}
	if w.StatusCode != 0 {
		attrs = append(attrs, keyStatusCode.Int(w.StatusCode))
	}
	trace.SpanFromContext(ctx).AddEvent("paykit.retry.wait", trace.WithAttributes(attrs...))
}

// errorType is the status code when there is one, else the error's kind.
func errorType(status int, err error) string {
	if status != 0 {
		return strconv.Itoa(status)
	}
	return outcome(err)
}

func (r *recorder) failover(ctx context.Context, f paykit.Failover) {
	if f.Taken {
		r.failovers.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(
			keyFrom.String(f.From), keyTo.String(f.To), keyReason.String(string(f.Reason))))
	}
	attrs := []attribute.KeyValue{keyFrom.String(f.From), keyTaken.Bool(f.Taken), keyReason.String(string(f.Reason)),
		keyErrorType.String(outcome(f.Err))}
	if f.To != "" {
		attrs = append(attrs, keyTo.String(f.To))
	}
	if f.NewPaymentID != "" {
		attrs = append(attrs, keyNewPaymentID.String(f.NewPaymentID))
	}
	trace.SpanFromContext(ctx).AddEvent("paykit.failover", trace.WithAttributes(attrs...))
}

func (r *recorder) webhook(ctx context.Context, d paykit.WebhookDelivery) {
	r.deliveries.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(
		keyProvider.String(d.Provider), keyVerdict.String(string(d.Verdict))))
	trace.SpanFromContext(ctx).SetAttributes(keyVerdict.String(string(d.Verdict)), keyStatusCode.Int(d.StatusCode))
}

func (r *recorder) store(ctx context.Context, s paykit.StoreCall) {
	r.storeDuration.Record(context.WithoutCancel(ctx), s.Duration.Seconds(), metric.WithAttributes(
		keyStore.String(s.Store), keyStoreOp.String(s.Op), keyOutcome.String(outcome(s.Err))))
}
