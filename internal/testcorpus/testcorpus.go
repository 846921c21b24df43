// Package testcorpus turns a corpus of recorded Claude Code sessions (raw
// hook payloads, one per line, as in ../shared/corpus/sessions) into spool
// lines for benchmarks: the realistic ingest workload. Only tests and
// benchmarks import it.
package testcorpus

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// Lines returns n spool lines: every session file in dir (every event and
// tool), normalised as the hook normalises, replayed round-robin with fresh
// session ids, tool_use ids, event ids (time-ordered, as the hook's
// UUIDv7s) and timestamps (1 ms apart, in line order, ending now, as the
// hook stamps them), so ids, times and search text are as unique as in real use. Each
// corpus payload is normalised once, so the lines are cheap to make and a
// profile of a benchmark using them shows the ingest, not the setup.
func Lines(dir string, n int) ([][]byte, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no corpus sessions (*.jsonl) in %s", dir)
	}
	norm := event.NewNormalizer(event.Options{Host: "bench", User: "dev"})
	type session struct {
		lines               []string
		id                  string
		toolIDs, evIDs, tss []string
	}
	var sessions []session
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var s session
		seen := map[string]bool{}
		for i, p := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
			ev, err := norm.Normalize(p)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", f, i+1, err)
			}
			s.lines = append(s.lines, string(ev.AppendJSON(nil)))
			s.evIDs = append(s.evIDs, ev.ID)
			s.tss = append(s.tss, stamp(ev.Timestamp))
			s.id = ev.SessionID
			if ev.ToolUseID != "" && !seen[ev.ToolUseID] {
				seen[ev.ToolUseID] = true
				s.toolIDs = append(s.toolIDs, ev.ToolUseID)
			}
		}
		sessions = append(sessions, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	toolID := func() string {
		id := []byte("toolu_01")
		for range 22 {
			id = append(id, b62[rng.IntN(len(b62))])
		}
		return string(id)
	}
	start := time.Now().Add(-time.Duration(n) * time.Millisecond) // the last one is now
	base := event.NewID(start)
	out := make([][]byte, 0, n)
	for r := 0; len(out) < n; r++ {
		s := sessions[r%len(sessions)]
		pairs := []string{s.id, fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x",
			rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))}
		for _, id := range s.toolIDs {
			pairs = append(pairs, id, toolID())
		}
		rep := strings.NewReplacer(pairs...)
		for i, line := range s.lines {
			if len(out) == n {
				break
			}
			fresh := fmt.Sprintf("%s%012x", base[:len(base)-12], len(out))
			line = strings.Replace(line, s.evIDs[i], fresh, 1)
			line = strings.Replace(line, s.tss[i], stamp(start.Add(time.Duration(len(out))*time.Millisecond)), 1)
			out = append(out, []byte(rep.Replace(line)))
		}
	}
	return out, nil
}

// stamp is the timestamp field as the event encoder writes it.
func stamp(t time.Time) string {
	return `"timestamp":"` + t.UTC().Format(time.RFC3339Nano) + `"`
}
