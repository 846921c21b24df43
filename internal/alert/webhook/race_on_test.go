//go:build race

package webhook

// raceDetector: timing assertions are off under -race (5-20x slower).
const raceDetector = true
