// Command checkout is paykit's main demo: one checkout through every provider, each against
// its in-process fake, through the paykit.Provider interface only. It needs no network and no
// credentials:
//
//	go run ./examples/checkout
//
// Each provider has its own file with a run function that prints its steps.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// section is one provider's part of the demo.
type section struct {
	name string
	run  func(ctx context.Context, out io.Writer) error
}

var sections = []section{
	{"eCredits (crypto payment by QR code)", runECredits},
	{"Entrecard (signed buy link, paid in credits)", runEntrecard},
	{"Ecster (invoice checkout: cart, OEN, partial capture, refund)", runEcster},
	{"EchelonPay (payin by bank transfer, callback, payout)", runEchelon},
	{"Router (one gateway: rules by currency, owners remembered, failover, one webhook handler)", runRouter},
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, s := range sections {
		fmt.Printf("== %s\n", s.name)
		if err := s.run(ctx, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "checkout: %s: %v\n", s.name, err)
			os.Exit(1)
		}
		fmt.Println()
	}
	fmt.Println("all checkouts completed")
}
