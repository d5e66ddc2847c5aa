// Package soak holds the soak test of paykit.Router: the Router over the four in-process
// fakes (ecreditstest, entrecardtest, echelontest, ecstertest) with random faults on every
// fake, duplicate and out-of-order notifications, and merchants and customers that behave
// as real ones must. It ends by reconciling every fake's records with the Router's view:
// no payment created twice or at two providers, no capture or refund applied twice, none
// lost, the merchant's function run exactly once per distinct event, and every payment's
// final status equal to the fake's.
//
// The package has no code outside its tests:
//
//	go test ./internal/soak                                      # short (300 payments), part of make test
//	go test ./internal/soak -run Soak -soak.payments=5000 -v     # long; make soak
//
// -soak.seed repeats a run; -soak.workers sets how many merchants run at once.
package soak
