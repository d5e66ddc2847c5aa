// Command gencurrency writes the root package's currency table from ISO 4217 list one as
// checked in (internal/iso4217/list.tsv). The root package runs it through `go generate`:
//
//	go generate github.com/paykit/paykit
//
// Edit list.tsv, never the generated file; TestCurrencyTableIsGenerated fails while the two
// differ.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/paykit/paykit/internal/iso4217"
)

func main() {
	out := flag.String("o", "currency_table.go", "the file to write")
	flag.Parse()
	src, err := iso4217.Generate(iso4217.Source)
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencurrency:", err)
		os.Exit(1)
	}
}
