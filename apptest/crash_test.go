package apptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/spool"
)

func synthetic(i int, now time.Time) *event.Event {
	return &event.Event{
		ID: event.NewID(now), SchemaVersion: event.SchemaVersion, Timestamp: now.UTC(),
		Host: "h", User: "u", Agent: event.Agent, Project: "crash", ProjectDir: "/home/dev/crash",
		SessionID: fmt.Sprintf("s-%d", i%7), HookEvent: "PreToolUse", ToolName: "Bash",
		ToolUseID: fmt.Sprintf("t-%d", i), EventType: event.TypeCommand,
		Action:   event.Action{Command: fmt.Sprintf("make test-%d", i)},
		Security: event.Security{Redactions: []string{}},
	}
}

// TestKillDuringSpoolIngest: SIGKILL serve while it ingests a large spool,
// restart it: every event is stored exactly once and the chain verifies.
func TestKillDuringSpoolIngest(t *testing.T) {
	n := 40000
	if testing.Short() {
		n = 5000
	}
	in := newInstance(t)
	w := &spool.Writer{Dir: filepath.Join(in.home, "spool")}
	var buf bytes.Buffer
	now := time.Now()
	for i := 0; i < n; i++ {
		b, _ := json.Marshal(synthetic(i, now))
		buf.Write(b)
		buf.WriteByte('\n')
	}
	os.MkdirAll(w.Dir, 0o700)
	if err := os.WriteFile(filepath.Join(w.Dir, spool.SegmentName(now)), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	kills := 0
	for kills < 3 {
		srv := in.serve()
		deadline := time.Now().Add(30 * time.Second)
		var st status
		for time.Now().Before(deadline) {
			st = srv.status()
			if st.EventsTotal > 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		srv.kill()
		kills++
		t.Logf("kill %d at %d/%d events stored", kills, st.EventsTotal, n)
		if st.EventsTotal >= int64(n) {
			break
		}
	}
	srv := in.serve()
	srv.waitEvents(int64(n), 60*time.Second)
	srv.stop()
	r := in.run(nil, "verify")
	if r.code != 0 {
		t.Fatalf("vigil verify after kills: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestKillDuringHTTPIngest: every batch serve acknowledged before SIGKILL
// is in the store after restart.
func TestKillDuringHTTPIngest(t *testing.T) {
	in := newInstance(t)
	srv := in.serve()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for c := 0; c < 2; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				evs := make([]*event.Event, 200)
				ids := make([]string, len(evs))
				for i := range evs {
					evs[i] = synthetic(c*1_000_000+b*200+i, time.Now())
					ids[i] = evs[i].ID
				}
				body, _ := json.Marshal(evs)
				resp, err := http.Post(srv.url("/api/v1/events"), "application/json", bytes.NewReader(body))
				if err != nil {
					return // the server died mid-request: not acknowledged
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, ids...)
					mu.Unlock()
				}
			}
		}(c)
	}
	time.Sleep(1500 * time.Millisecond)
	srv.kill()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged before the kill")
	}
	srv = in.serve()
	st := srv.status()
	if st.EventsTotal < int64(len(acked)) {
		t.Fatalf("store holds %d events, %d were acknowledged", st.EventsTotal, len(acked))
	}
	missing := 0
	for i, id := range acked {
		if i%17 != 0 && i != len(acked)-1 {
			continue // sample, plus the last acknowledged one
		}
		resp, err := http.Get(srv.url("/api/v1/events/" + id))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged events missing after kill -9", missing)
	}
	t.Logf("%d events acknowledged before kill; all present", len(acked))
}
