//go:build !race

package appattest

const raceEnabled = false
