package grafana

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestRequest(t *testing.T) {
	type req struct {
		method, path, auth, ctype string
		body                      Annotation
	}
	tests := []struct {
		name     string
		cfg      config.GrafanaChannel
		wantAuth string
		wantTags []string
		wantUID  string
	}{
		{"token and dashboard", config.GrafanaChannel{Token: "glsa_abc", DashboardUID: "vigil-main", Tags: []string{"vigil", "security"}},
			"Bearer glsa_abc", []string{"vigil", "security", "severity:HIGH", "kind:new", "rule:dangerous_commands", "category:dangerous_operation", "project:web"}, "vigil-main"},
		{"no token (seed api_key empty)", config.GrafanaChannel{Tags: []string{"security", "alert"}},
			"", []string{"security", "alert", "severity:HIGH", "kind:new", "rule:dangerous_commands", "category:dangerous_operation", "project:web"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []req
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var a Annotation
				b, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(b, &a); err != nil {
					t.Errorf("body %s: %v", b, err)
				}
				got = append(got, req{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), a})
				io.WriteString(w, `{"message":"Annotation added","id":1}`)
			}))
			defer srv.Close()
			cfg := tc.cfg
			cfg.URL = srv.URL + "/"
			cfg.AllowPrivate = true
			g, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			n := alert.Notification{Kind: alert.KindNew, Severity: rules.High, Time: t0.Add(1500 * time.Millisecond), Title: "dangerous_commands: rm -rf ~",
				Alert: alert.Alert{ID: "a1", Rule: "dangerous_commands", Category: "dangerous_operation", Severity: rules.High, Project: "web", SessionID: "s", Count: 1, FirstSeen: t0, LastSeen: t0}}
			if err := g.Notify(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d requests", len(got))
			}
			r := got[0]
			if r.method != "POST" || r.path != "/api/annotations" || r.auth != tc.wantAuth || r.ctype != "application/json" {
				t.Errorf("request %s %s auth %q type %q", r.method, r.path, r.auth, r.ctype)
			}
			if r.body.Time != t0.UnixMilli()+1500 || r.body.DashboardUID != tc.wantUID || r.body.Text != n.Text() {
				t.Errorf("annotation %+v", r.body)
			}
			gt, _ := json.Marshal(r.body.Tags)
			wt, _ := json.Marshal(tc.wantTags)
			if string(gt) != string(wt) {
				t.Errorf("tags %s, want %s", gt, wt)
			}
		})
	}
}
