package redact

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

// TestCorpusStrings runs every distinct string of the labelled corpus
// (../shared/corpus, copied to testdata/corpus_strings.jsonl) through
// String. The strings that change, and how, are pinned in
// testdata/corpus.golden; every other string must come out unchanged, so
// the golden file is also the false-positive review list.
func TestCorpusStrings(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "corpus_strings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := New()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	n := 0
	for sc.Scan() {
		var s string
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		n++
		out, kinds := r.String(s)
		if kinds == nil {
			continue
		}
		q, _ := json.Marshal(out)
		fmt.Fprintf(&b, "%s\n  %s\n", strings.Join(kinds, ","), q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("only %d strings", n)
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
		t.Fatalf("%v (go test -run Corpus -update)", err)
	}
	if b.String() != string(want) {
		gl, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("golden differs at line %d:\n got: %s\nwant: %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("golden differs in length: %d vs %d lines", len(gl), len(wl))
	}
}

// TestCorpusSecretsRemoved names the secrets planted in the corpus: none may
// survive anywhere in the corpus strings.
func TestCorpusSecretsRemoved(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "corpus_strings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	r := New()
	var secrets []string
	var all []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var s string
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	// Collect what was redacted from strings that are unambiguous secret
	// stores (credentials files, .env, netrc), then make sure those values
	// are gone from every redacted string that contained them.
	for _, s := range all {
		for _, marker := range []string{"aws_secret_access_key = ", "aws_access_key_id = ", "SECRET_KEY=", "password ", "https://dev-acme:", "https://oauth2:"} {
			for _, part := range strings.Split(s, marker)[1:] {
				v := strings.FieldsFunc(part, func(r rune) bool { return r == '\n' || r == ' ' || r == '@' })
				if len(v) > 0 && len(v[0]) >= 8 {
					secrets = append(secrets, v[0])
				}
			}
		}
	}
	if len(secrets) < 5 {
		t.Fatalf("found only %d planted secrets", len(secrets))
	}
	for _, s := range all {
		out, _ := r.String(s)
		for _, sec := range secrets {
			if strings.Contains(s, sec) && strings.Contains(out, sec) {
				t.Errorf("secret %q survives in %q", sec, out)
			}
		}
	}
}
