package main

import (
	"context"
	"fmt"
)

// Commands whose packages are still being built by their owners; each is
// replaced by its real wiring as the package lands.
func notYet(name string) func(context.Context, *cli, []string) int {
	return func(_ context.Context, c *cli, _ []string) int {
		fmt.Fprintf(c.stderr, "qoswatch %s: not built yet\n", name)
		return 1
	}
}

var (
	cmdExplain = notYet("explain")
)
