//go:build unix

package rules

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the user+system CPU time of this process. Benchmarks report
// it per operation (cpu-ns/op) next to wall time, because wall time on a
// shared, loaded machine mostly measures waiting for a core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	if n := b.N; n > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(n), "cpu-ns/op")
	}
}
