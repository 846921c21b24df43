// Command hookbench measures `vigil hook` end to end, as Claude Code runs
// it: a new process per event, the payload on stdin, timed from process
// start to exit. It prints median, p90, p99 and max.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hookbench:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin/vigil", "vigil binary")
	fixture := flag.String("fixture", "../shared/fixtures/hooks/PreToolUse-Bash.json", "hook payload file")
	n := flag.Int("n", 1000, "runs")
	warm := flag.Int("warmup", 50, "untimed runs first")
	var extraEnv envList
	flag.Var(&extraEnv, "env", "extra environment, e.g. VIGIL_ENFORCEMENT=enforce (repeatable)")
	flag.Parse()
	payload, err := os.ReadFile(*fixture)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	home, err := os.MkdirTemp("", "hookbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	env := append(os.Environ(), "VIGIL_HOME="+home)
	env = append(env, extraEnv...)
	times := make([]time.Duration, 0, *n)
	for i := 0; i < *warm+*n; i++ {
		cmd := exec.Command(abs, "hook")
		cmd.Env = env
		cmd.Stdin = bytes.NewReader(payload)
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		d := time.Since(start)
		if i >= *warm {
			times = append(times, d)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	q := func(p float64) time.Duration { return times[int(p*float64(len(times)-1))] }
	fmt.Printf("hook end to end (%s, %d runs): median %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		filepath.Base(*fixture), len(times), ms(q(0.5)), ms(q(0.9)), ms(q(0.99)), ms(times[len(times)-1]))
	return nil
}

// envList is a repeatable -env flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want NAME=value, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
