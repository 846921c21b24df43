package apptest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestMetrics: /metrics exposes events ingested, ingest lag, store size and
// hook errors with values that follow what happened.
func TestMetrics(t *testing.T) {
	in := newInstance(t)
	good, _ := os.ReadFile(filepath.Join(sharedDir(t), "fixtures", "hooks", "PreToolUse-Bash.json"))
	in.hook(good)
	in.hook(good)
	in.hook([]byte(`{"truncated":`))
	srv := in.serve()
	srv.waitEvents(3, 10*time.Second)
	resp, err := http.Get(srv.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metric := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("metric %s missing from /metrics", name)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	if v := metric(`vigil_events_ingested_total{source="spool"}`); v != 3 {
		t.Errorf("events ingested = %v, want 3", v)
	}
	if v := metric(`vigil_hook_errors_total`); v != 1 {
		t.Errorf("hook errors = %v, want 1", v)
	}
	if v := metric(`vigil_store_size_bytes`); v < 4096 {
		t.Errorf("store size = %v", v)
	}
	if v := metric(`vigil_ingest_lag_seconds`); v < 0 || v > 60 {
		t.Errorf("ingest lag = %v s", v)
	}
	metric(`vigil_spool_backlog_bytes`)
	st := srv.status()
	if st.EventsTotal != 3 || st.HookErrorsTotal != 1 {
		t.Errorf("status = %+v", st)
	}
}
