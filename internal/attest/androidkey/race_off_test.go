//go:build !race

package androidkey

const raceEnabled = false
