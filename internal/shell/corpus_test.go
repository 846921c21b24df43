package shell

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// loadCorpusCommands reads testdata/corpus_commands.jsonl: every distinct
// Bash command of ../shared/corpus/sessions, one JSON string per line.
func loadCorpusCommands(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus_commands.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c string
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		cmds = append(cmds, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// TestCorpusCommands parses every Bash command of the labelled corpus. None
// is invalid shell, so none may need the fallback, and the facts found for
// each are pinned in testdata/corpus.golden (go test -run Corpus -update).
func TestCorpusCommands(t *testing.T) {
	cmds := loadCorpusCommands(t)
	if len(cmds) < 100 {
		t.Fatalf("only %d corpus commands", len(cmds))
	}
	opts := Options{Cwd: "/home/dev/projects/proj", Home: "/home/dev"}
	var b strings.Builder
	for _, c := range cmds {
		a := Parse(c, opts)
		if a.ParseError != "" {
			t.Errorf("%q: parse error %s", c, a.ParseError)
		}
		if len(a.Programs) == 0 {
			t.Errorf("%q: no programs", c)
		}
		if a.Truncated {
			t.Errorf("%q: truncated", c)
		}
		fmt.Fprintf(&b, "$ %s\n", c)
		for _, p := range a.Programs {
			fmt.Fprintf(&b, "  %s", strings.Join(summary(&Analysis{Programs: []Program{p}}), ""))
			if len(p.Args) > 0 {
				fmt.Fprintf(&b, " %q", p.Args)
			}
			if p.Dynamic {
				b.WriteString(" dynamic")
			}
			if p.Obfuscated {
				b.WriteString(" obfuscated")
			}
			b.WriteString("\n")
		}
		for _, kv := range []struct {
			k string
			v []string
		}{{"reads", a.Reads}, {"writes", a.Writes}, {"paths", a.Paths}} {
			if len(kv.v) > 0 {
				fmt.Fprintf(&b, "  %s: %s\n", kv.k, strings.Join(kv.v, " "))
			}
		}
	}
	golden := filepath.Join("testdata", "corpus.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Corpus -update)", err)
	}
	if got := b.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("golden mismatch at line %d:\n got: %s\nwant: %s\n(run go test -run Corpus -update after checking)", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("golden length differs: got %d lines, want %d", len(gl), len(wl))
	}
}
