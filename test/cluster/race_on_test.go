//go:build race

package cluster

// raceEnabled builds the gateway with -race when the tests run with it,
// so that the nodes are checked for data races too.
const raceEnabled = true
