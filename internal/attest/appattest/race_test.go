//go:build race

package appattest

// raceEnabled thins the flip walks: the race detector slows the pure-Go
// P-384 arithmetic of the chain checks about twentyfold.
const raceEnabled = true
