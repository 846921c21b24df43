package rules

import (
	"bytes"
	"encoding/json"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// nodeJSON writes n as JSON: scalars as strings, mappings with "@line".
func nodeJSON(b *bytes.Buffer, n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		nodeJSON(b, n.Content[0])
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			b.WriteString("null")
			return
		}
		s, _ := json.Marshal(n.Value)
		b.Write(s)
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			nodeJSON(b, c)
		}
		b.WriteByte(']')
	case yaml.MappingNode:
		b.WriteString(`{"` + lineKey + `":"` + strconv.Itoa(n.Line) + `"`)
		for i := 0; i+1 < len(n.Content); i += 2 {
			b.WriteByte(',')
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			nodeJSON(b, n.Content[i+1])
		}
		b.WriteByte('}')
	case yaml.AliasNode:
		nodeJSON(b, n.Alias)
	}
}

// TestDefaultJSON keeps defaults/default.json and defaults/deciders.json
// in step with default.yaml (run with -update after editing the YAML).
func TestDefaultJSON(t *testing.T) {
	y, err := os.ReadFile("defaults/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(y, &doc); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	nodeJSON(&b, &doc)
	b.WriteByte('\n')
	checkGenerated(t, defaultJSON, b.Bytes())

	b.Reset()
	nodeJSON(&b, decidersOnly(t, doc.Content[0]))
	b.WriteByte('\n')
	checkGenerated(t, decidersJSON, b.Bytes())
}

func checkGenerated(t *testing.T, name string, want []byte) {
	t.Helper()
	file := "defaults/" + name
	if *update {
		if err := os.WriteFile(file, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./internal/rules -run TestDefaultJSON -update", file)
	}
}

// decidersOnly copies a native rule file's root keeping every list and
// macro but only the enabled plain rules whose action is block or ask.
func decidersOnly(t *testing.T, root *yaml.Node) *yaml.Node {
	out := *root
	out.Content = nil
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == "rules" {
			seq := *v
			seq.Content = nil
			for _, r := range v.Content {
				if decides(r) {
					seq.Content = append(seq.Content, r)
				}
			}
			if len(seq.Content) == 0 {
				t.Fatal("default set has no block or ask rules")
			}
			v = &seq
		}
		out.Content = append(out.Content, k, v)
	}
	return &out
}

func decides(rule *yaml.Node) bool {
	deciding, enabled, plain := false, true, true
	for i := 0; i+1 < len(rule.Content); i += 2 {
		k, v := rule.Content[i].Value, rule.Content[i+1]
		switch k {
		case "action":
			deciding = v.Value == ActionBlock || v.Value == ActionAsk
		case "enabled":
			enabled = v.Value != "false"
		case "derived", "threshold", "sequence":
			plain = false
		}
	}
	return deciding && enabled && plain
}

// TestDecidersOnlyMatchesWhole: the hook's subset engine reaches the same
// decision as the whole default set on every PreToolUse event of both
// corpora, and holds exactly the whole set's deciding rules.
func TestDecidersOnlyMatchesWhole(t *testing.T) {
	whole := loadDefaults(t)
	sub, err := Load(config.Rules{Defaults: true}, WithDecidersOnly())
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs, gotIDs []string
	for _, r := range whole.deciders {
		wantIDs = append(wantIDs, r.ID+"@"+r.Source)
	}
	for _, r := range sub.deciders {
		gotIDs = append(gotIDs, r.ID+"@"+r.Source)
	}
	if strings.Join(gotIDs, "\n") != strings.Join(wantIDs, "\n") || len(sub.rules) != len(sub.deciders) {
		t.Fatalf("subset deciders differ (%d rules loaded):\n got %v\nwant %v", len(sub.rules), gotIDs, wantIDs)
	}
	files, _ := filepath.Glob("testdata/*/sessions/*.jsonl")
	norm := event.NewNormalizer(event.Options{})
	n, decided := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range bytes.Split(b, []byte("\n")) {
			ev, err := norm.Normalize(line)
			if err != nil || ev.HookEvent != "PreToolUse" {
				continue
			}
			n++
			wa, wm := whole.Decide(ev)
			ga, gm := sub.Decide(ev)
			if wa != ga || (wm == nil) != (gm == nil) || (wm != nil && (wm.RuleID != gm.RuleID || wm.Summary != gm.Summary)) {
				t.Errorf("%s:%d: whole set decides %q %+v, subset %q %+v", f, i+1, wa, wm, ga, gm)
			}
			if wa != "" {
				decided++
			}
		}
	}
	if n < 500 || decided < 20 {
		t.Fatalf("compared %d PreToolUse events, %d decided: corpora missing?", n, decided)
	}
	t.Logf("%d PreToolUse events, %d blocked or asked, same decision", n, decided)
}

// TestDecidersOnlyGuards: the subset engine refuses full evaluation, and a
// user rule that decides on other rules' hits brings the whole set back.
func TestDecidersOnlyGuards(t *testing.T) {
	sub, err := Load(config.Rules{Defaults: true}, WithDecidersOnly())
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Evaluate on a deciders-only engine did not panic")
			}
		}()
		sub.Evaluate(bashEvent("ls"))
	}()
	derived := Source{Name: "user.yaml", Data: []byte(`rules:
  - id: user-block-wrapped
    description: block any HIGH finding run through a shell wrapper
    severity: HIGH
    category: exfiltration
    action: block
    derived:
      min_severity: HIGH
      signals: [shell_wrapper]
`)}
	eng, err := Load(config.Rules{Defaults: true}, WithDecidersOnly(), WithSources(derived))
	if err != nil {
		t.Fatal(err)
	}
	if eng.decideOnly || len(eng.rules) <= len(sub.rules)+1 {
		t.Fatalf("derived deciding rule kept the subset (%d rules)", len(eng.rules))
	}
	eng.Evaluate(bashEvent("ls")) // whole engine: no panic
}
