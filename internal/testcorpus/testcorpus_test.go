package testcorpus

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestLines: n valid events, every id unique, every replay a new session
// whose Pre and Post events still share their (new) tool_use id.
func TestLines(t *testing.T) {
	const n = 3000
	lines, err := Lines("../rules/testdata/corpus/sessions", n)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	ids := map[string]bool{}
	sessions := map[string]bool{}
	toolEvents := map[string][]string{} // tool_use_id → hook events
	var last time.Time
	for i, l := range lines {
		var ev event.Event
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if ids[ev.ID] {
			t.Fatalf("line %d: id %s repeats", i, ev.ID)
		}
		ids[ev.ID] = true
		if !ev.Timestamp.After(last) {
			t.Fatalf("line %d: timestamp %v not after the line before (%v): replays must be stamped in order", i, ev.Timestamp, last)
		}
		last = ev.Timestamp
		sessions[ev.SessionID] = true
		if ev.ToolUseID != "" {
			toolEvents[ev.ToolUseID] = append(toolEvents[ev.ToolUseID], ev.HookEvent)
		}
	}
	if late := time.Since(last); late < 0 || late > time.Minute {
		t.Errorf("the last line is stamped %v ago, want about now", late)
	}
	if len(sessions) < 100 {
		t.Errorf("%d sessions in %d lines: replays should get fresh session ids", len(sessions), n)
	}
	paired := 0
	for _, evs := range toolEvents {
		if len(evs) > 3 {
			t.Fatalf("a tool_use id is shared by %d events: %v (replays must get fresh ids)", len(evs), evs)
		}
		if len(evs) >= 2 {
			paired++
		}
	}
	if paired < 100 {
		t.Errorf("only %d Pre/Post pairs share a tool_use id", paired)
	}
	if _, err := Lines(t.TempDir(), 1); err == nil {
		t.Error("an empty corpus directory: want an error")
	}
}
