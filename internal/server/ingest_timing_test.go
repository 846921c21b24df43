package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// BenchmarkHTTPIngest measures POST /api/v1/events end to end over
// loopback HTTP: strict decoding, validation and the store commit, in
// batches of 1,000 NDJSON events.
func BenchmarkHTTPIngest(b *testing.B) {
	ts, _, _ := apiServerMax(b, 64<<20, 10000)
	n := event.NewNormalizer(event.Options{Host: "bench", User: "dev"})
	const batch = 1000
	var bodies [][]byte
	var buf bytes.Buffer
	for i := 0; i < b.N; i++ {
		raw := fmt.Sprintf(`{"session_id":"sess-%d","cwd":"/home/dev/projects/shop","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test -- --shard=%d"},"tool_use_id":"toolu_%024d"}`, i%64, i, i)
		ev, _ := n.Normalize([]byte(raw))
		line, _ := json.Marshal(ev)
		buf.Write(line)
		buf.WriteByte('\n')
		if (i+1)%batch == 0 || i == b.N-1 {
			bodies = append(bodies, bytes.Clone(buf.Bytes()))
			buf.Reset()
		}
	}
	b.ResetTimer()
	start := time.Now()
	for _, body := range bodies {
		resp, err := http.Post(ts.URL+"/api/v1/events", "application/x-ndjson", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
