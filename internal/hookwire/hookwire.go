// Package hookwire hands provider packages what package paykit makes of its Hooks, for the
// handlers they build on paykit's internals (EchelonPay's payout callbacks), without adding
// it to paykit's public API. paykit cannot be imported from here (it imports this package),
// so paykit sets the functions when it is initialised, which is before any package that
// imports paykit runs.
package hookwire

import "github.com/paykit/paykit/internal/webhookcore"

// WebhookObserver returns the webhookcore.Observer through which a webhook handler named
// provider reports to hooks, a *paykit.Hooks (nil allowed), as paykit.NewWebhookHandler's
// handler does: an OpHandleNotification operation, its verdict and its dedupe store calls.
// It returns nil when hooks observe nothing a handler does. Set by package paykit.
var WebhookObserver func(hooks any, provider string) *webhookcore.Observer
