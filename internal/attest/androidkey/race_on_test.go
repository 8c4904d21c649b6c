//go:build race

package androidkey

// raceEnabled slows down the byte-flip walk under the race detector, which
// adds nothing to its single-goroutine loops but a tenfold cost.
const raceEnabled = true
