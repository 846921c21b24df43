package loki

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/rules"
)

func TestAlertNotifier(t *testing.T) {
	t.Parallel()
	lk := sharedLoki(t)
	c := testClient(t, lk.URL(), FormatProtobuf)
	service := "vigil-alerts"
	an := NewAlertNotifier(c, service)
	now := time.Now().Truncate(time.Second)
	notes := []alert.Notification{
		{Kind: alert.KindNew, Severity: rules.Critical, Title: "ssh key read", Time: now,
			Alert: alert.Alert{ID: "a1", Rule: "credential_access", Category: "credential_access", SessionID: "s1", Project: "api", Count: 1, EventIDs: []string{"e1"}}},
		// Same nanosecond, same stream, another alert: must not be dropped.
		{Kind: alert.KindNew, Severity: rules.Critical, Title: "ssh key read again", Time: now,
			Alert: alert.Alert{ID: "a2", Rule: "credential_access", Category: "credential_access", SessionID: "s2", Project: "api", Count: 1}},
		{Kind: alert.KindSummary, Severity: rules.High, Title: "held back 3 alerts", Time: now.Add(time.Second),
			Held: []alert.Held{{Rule: "dangerous_commands", Severity: rules.High, Count: 3}}},
	}
	for _, n := range notes {
		if err := an.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	// A retry of the first notification is stored once.
	if err := an.Notify(context.Background(), notes[0]); err != nil {
		t.Fatal(err)
	}
	got, err := c.QueryAll(context.Background(), QueryRange{Query: `{service="vigil-alerts", stream="alerts"}`, Start: now.Add(-time.Minute)}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d alert entries, want 3: %+v", len(got), got)
	}
	want := []struct{ severity, category, rule, kind string }{
		{"CRITICAL", "credential_access", "credential_access", "new"},
		{"CRITICAL", "credential_access", "credential_access", "new"},
		{"HIGH", "summary", "", "summary"},
	}
	for i, e := range got {
		w := want[i]
		if e.Labels["severity"] != w.severity || e.Labels["category"] != w.category || e.Labels["rule"] != w.rule || e.Labels["kind"] != w.kind {
			t.Errorf("entry %d labels = %v, want %+v", i, e.Labels, w)
		}
		var line AlertLine
		if err := json.Unmarshal([]byte(e.Line), &line); err != nil {
			t.Fatalf("entry %d: line is not JSON: %v", i, err)
		}
		if line.Severity != w.severity || line.Kind != w.kind {
			t.Errorf("entry %d line = %+v", i, line)
		}
	}
	if got[0].Time.Equal(got[1].Time) {
		t.Errorf("two alerts share the timestamp %s in one stream", got[0].Time)
	}
}
