package rules

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
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

// TestDefaultJSON keeps defaults/default.json in step with default.yaml
// (run with -update after editing the YAML).
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
	if *update {
		if err := os.WriteFile("defaults/default.json", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("defaults/default.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatal("defaults/default.json is stale: run go test ./internal/rules -run TestDefaultJSON -update")
	}
}
