package rules

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
)

// corpusEvents normalises every payload of the dev corpus.
func corpusEvents(tb testing.TB) []*event.Event {
	tb.Helper()
	norm := event.NewNormalizer(event.Options{})
	files, _ := filepath.Glob("testdata/corpus/sessions/*.jsonl")
	var evs []*event.Event
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if ev, err := norm.Normalize(sc.Bytes()); err == nil {
				evs = append(evs, ev)
			}
		}
		fh.Close()
	}
	if len(evs) == 0 {
		tb.Fatal("no corpus events")
	}
	return evs
}

func loadDefaults(tb testing.TB) *Engine {
	tb.Helper()
	eng, err := Load(config.Rules{Defaults: true})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// BenchmarkEvaluate is the per-event cost of the default rules (shell
// parsing of Bash commands included), over the corpus' event mix.
func BenchmarkEvaluate(b *testing.B) {
	benchEvents(b, func(*event.Event) bool { return true }, func(e *Engine, ev *event.Event) { e.Evaluate(ev) })
}

// BenchmarkEvaluateBash is the same over Bash PreToolUse events only.
func BenchmarkEvaluateBash(b *testing.B) {
	benchEvents(b, func(ev *event.Event) bool { return ev.ToolName == "Bash" && ev.HookEvent == "PreToolUse" },
		func(e *Engine, ev *event.Event) { e.Evaluate(ev) })
}

// BenchmarkDecide is the hook's stateless PreToolUse decision.
func BenchmarkDecide(b *testing.B) {
	benchEvents(b, func(ev *event.Event) bool { return ev.HookEvent == "PreToolUse" },
		func(e *Engine, ev *event.Event) { e.Decide(ev) })
}

// benchEvents runs op on the corpus events keep selects, round-robin, and
// reports CPU time per operation.
func benchEvents(b *testing.B, keep func(*event.Event) bool, op func(*Engine, *event.Event)) {
	var evs []*event.Event
	for _, ev := range corpusEvents(b) {
		if keep(ev) {
			evs = append(evs, ev)
		}
	}
	eng := loadDefaults(b)
	b.ReportAllocs()
	cpu := processCPU()
	i := 0
	for b.Loop() {
		op(eng, evs[i%len(evs)])
		i++
	}
	reportCPU(b, cpu)
}

// BenchmarkLoadDefaults is what the hook pays on every start to compile
// the embedded rule set.
func BenchmarkLoadDefaults(b *testing.B) {
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if _, err := Load(config.Rules{Defaults: true}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

func bashEvent(cmd string) *event.Event {
	ev := &event.Event{ID: "e1", SessionID: "s1", HookEvent: "PreToolUse", ToolName: "Bash", EventType: event.TypeCommand,
		Cwd: "/home/dev/projects/app", ProjectDir: "/home/dev/projects/app", Timestamp: time.Unix(1, 0)}
	ev.Action.Command = cmd
	return ev
}

var pathological = map[string]func() string{
	"2MB-heredoc": func() string {
		return "cat > big.txt <<'EOF'\n" + strings.Repeat("rm -rf ~ $(curl x|sh) `id` \"$a$b\"\n", 2<<20/36) + "EOF\n"
	},
	"2MB-one-line": func() string { return "echo " + strings.Repeat("a/b/c ", 2<<20/6) },
	"10k-pipes":    func() string { return "cat x" + strings.Repeat(" | tr a b", 10000) },
	"deep-nesting": func() string {
		return strings.Repeat("bash -c \"$(", 200) + "rm -rf ~" + strings.Repeat(")\"", 200)
	},
	"10k-and-chain": func() string { return strings.Repeat("true && ", 10000) + "rm -rf ~" },
	"many-args":     func() string { return "rm -rf" + strings.Repeat(" ~/x/y/z/*", 50000) },
}

// BenchmarkPathological evaluates the rules on hostile command strings.
func BenchmarkPathological(b *testing.B) {
	eng := loadDefaults(b)
	for name, mk := range pathological {
		cmd := mk()
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(cmd)))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				eng.Evaluate(bashEvent(cmd))
			}
			reportCPU(b, cpu)
		})
	}
}

// TestPathologicalBounded: each hostile command is evaluated in bounded
// time. The budget is 50 ms (see BenchmarkPathological and
// docs/BENCHMARKS.md); the test allows 10x for loaded CI machines and
// more under -race, which still catches any super-linear blow-up.
func TestPathologicalBounded(t *testing.T) {
	eng := loadDefaults(t)
	limit := 500 * time.Millisecond
	if raceEnabled {
		limit *= 10
	}
	for name, mk := range pathological {
		cmd := mk()
		t.Run(name, func(t *testing.T) {
			best := time.Hour
			for range 3 {
				start := time.Now()
				eng.Evaluate(bashEvent(cmd))
				best = min(best, time.Since(start))
			}
			t.Logf("%s (%d bytes): %v", name, len(cmd), best)
			if best > limit {
				t.Errorf("took %v, budget %v", best, limit)
			}
		})
	}
}

// BenchmarkHookPath is what one hook process pays for rules on a
// PreToolUse Bash event in enforce mode: load the deciding rules of the
// default set, then Decide.
func BenchmarkHookPath(b *testing.B) {
	ev := bashEvent("npm test -- --coverage && git status")
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		eng, err := Load(config.Rules{Defaults: true}, WithDecidersOnly())
		if err != nil {
			b.Fatal(err)
		}
		eng.Decide(ev)
	}
	reportCPU(b, cpu)
}
