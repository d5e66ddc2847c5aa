package paykit

import (
	"context"
	"log/slog"
)

// Watcher keeps a watch list of payments whose final state must reach the merchant even
// when no notification brings it: a reconciler (package reconcile) re-reads each watched
// payment until it is final and runs the merchant's function on the same once-only path as
// the webhook handler. Give one to a Router with WithWatcher and every payment it creates
// is watched from before the create is sent.
type Watcher interface {
	// Watch adds id to the watch list, or makes a watched id due again soon. It returns an
	// error only when the watch list could not record it.
	Watch(ctx context.Context, id string) error
	// Unwatch takes id off the watch list: the Router calls it for an id under which it
	// certainly created nothing (a failover that had to give the next provider another id).
	Unwatch(ctx context.Context, id string) error
}

// WithWatcher makes the Router enrol payments with w: CreatePayment calls w.Watch with the
// payment id after recording its owner and before the create is sent (for a failover to a
// new id, before the create under that id), so that a crash at any point leaves no payment
// unwatched; a Watch that fails sends nothing and returns an error of kind
// ErrStoreUnavailable naming the watch store. Capture, Refund and Cancel watch the id again
// before they are sent, as their outcome is notified too. An id under which a failover
// proved nothing was created is unwatched (a failure there is logged, not returned).
func WithWatcher(w Watcher) RouterOption { return func(r *Router) { r.watcher = w } }

// watch enrols id with the Router's watcher, if it has one; the error is the one op returns.
func (r *Router) watch(ctx context.Context, op, id string) error {
	if r.watcher == nil {
		return nil
	}
	if err := r.watcher.Watch(ctx, id); err != nil {
		return storeError(op, id, "watch store", err)
	}
	return nil
}

// rewatch watches id again once an operation on it has returned, whatever its outcome: a
// poll that read the payment while the operation was on its way may have found it final
// (captured, not yet refunded) and dropped it, and the state the operation made must still
// reach fn if its notification is lost. The watch before the operation stays, for a crash
// in between. A failure here is logged, not returned: the operation's own result stands.
func (r *Router) rewatch(ctx context.Context, op, id string) {
	if r.watcher == nil {
		return
	}
	if err := r.watcher.Watch(context.WithoutCancel(ctx), id); err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "router: could not watch the payment again after the operation",
			slog.String("op", op), slog.String("payment_id", id), slog.String("error", err.Error()))
	}
}
