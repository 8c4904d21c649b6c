// Command drawbridge is an API security gateway for mobile and web apps.
// See 'drawbridge --help'.
package main

import (
	"context"
	"os"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
