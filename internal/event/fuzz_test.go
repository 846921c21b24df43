package event

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzNormalize: any input either normalises to an event that marshals to
// valid JSON with the schema invariants, or is rejected with an error that
// HookError turns into a hook_error event. Nothing panics.
func FuzzNormalize(f *testing.F) {
	files, _ := filepath.Glob("testdata/hooks/*.json")
	bad, _ := filepath.Glob("testdata/hooks/bad/*")
	for _, p := range append(files, bad...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"bash -c \"$(echo cm0gLXJmIH4= | base64 -d)\""}}`))
	f.Add([]byte(`{"tool_input":{"command":17},"tool_name":"Bash","hook_event_name":"PreToolUse","cwd":"/tmp/../etc"}`))
	n := NewNormalizer(Options{Host: "h", User: "u", Home: "/home/u", MaxField: 1024})
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := n.Normalize(raw)
		if err != nil {
			ev = n.HookError(raw, err)
			if ev.EventType != TypeHookError || ev.HookError == nil {
				t.Fatalf("HookError gave %+v", ev)
			}
		}
		if ev.ID == "" || ev.SchemaVersion != SchemaVersion || ev.EventType == "" || ev.Security.Redactions == nil {
			t.Fatalf("invariants broken: %+v", ev)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if len(ev.Action.Command) > 1024 || len(ev.Action.Prompt) > 1024 {
			t.Fatalf("cap not applied: command %d, prompt %d bytes", len(ev.Action.Command), len(ev.Action.Prompt))
		}
	})
}

// FuzzJSONString: the one-pass decoder agrees with encoding/json.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\nb\"c\\d\/e"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, `"tab\tend"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want string
		if json.Unmarshal(raw, &want) != nil {
			return
		}
		got, ok := jsonString(raw)
		if !ok || got != want {
			t.Fatalf("jsonString(%q) = %q, %v; encoding/json says %q", raw, got, ok, want)
		}
	})
}
