package jsonfile

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

func note(i int) alert.Notification {
	return alert.Notification{Kind: alert.KindNew, Severity: rules.Medium, Time: time.Unix(1700000000, 0).UTC(),
		Title: fmt.Sprintf("rule: alert number %03d", i), Alert: alert.Alert{ID: fmt.Sprintf("id-%03d", i), Rule: "rule", Severity: rules.Medium, Count: 1}}
}

func lines(t *testing.T, p string) []alert.Notification {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []alert.Notification
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var n alert.Notification
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatalf("%s: bad line %q: %v", p, sc.Text(), err)
		}
		out = append(out, n)
	}
	return out
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "alerts.log")
	one, _ := json.Marshal(note(0))
	size := int64(len(one)+1) * 3 // three lines per file
	f, err := NewWithSize(p, size, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := f.Notify(context.Background(), note(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// 10 lines, 3 per file: current has 9, .1 has 6-8, .2 has 3-5; 0-2 rotated away.
	for _, tc := range []struct {
		file  string
		first int
		n     int
	}{{p, 9, 1}, {p + ".1", 6, 3}, {p + ".2", 3, 3}} {
		got := lines(t, tc.file)
		if len(got) != tc.n || got[0].Alert.ID != fmt.Sprintf("id-%03d", tc.first) {
			t.Errorf("%s: %d lines starting %v, want %d starting id-%03d", filepath.Base(tc.file), len(got), got, tc.n, tc.first)
		}
	}
	if _, err := os.Stat(p + ".3"); !os.IsNotExist(err) {
		t.Errorf("%s.3 exists: keep_files not honoured", p)
	}
}

func TestAppendsAcrossRestarts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.log")
	for i := range 2 {
		f, err := New(config.JSONFileChannel{Path: p, MaxSizeMB: 1, KeepFiles: 1})
		if err != nil {
			t.Fatal(err)
		}
		f.Notify(context.Background(), note(i))
		f.Close()
	}
	if got := lines(t, p); len(got) != 2 {
		t.Errorf("%d lines, want 2", len(got))
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 (alerts name commands and paths)", st.Mode().Perm())
	}
}
