//go:build race

package store

// raceEnabled scales the heavier tests down under -race, where the
// transpiled SQLite runs many times slower.
const raceEnabled = true
