package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/rules"
)

// dashboard is the part of a Grafana dashboard the tests look at.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Datasource json.RawMessage `json:"datasource"`
			Definition string          `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID      string `json:"refId"`
		Expr       string `json:"expr"`
		QueryType  string `json:"queryType"`
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// wantDashboards are the shipped dashboards and their stable uids.
var wantDashboards = map[string]string{
	"vigil-overview.json": "vigil-overview",
	"vigil-security.json": "vigil-security",
	"vigil-session.json":  "vigil-session",
}

// emptyPanels lists panels that are meant to return nothing on the seeded
// corpus, with the reason. Empty today: none.
var emptyPanels = map[string]string{}

func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy", "grafana", "dashboards")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

func TestDashboardsStructure(t *testing.T) {
	ds := loadDashboards(t)
	if len(ds) != len(wantDashboards) {
		t.Errorf("dashboards %v, want %v", keys(ds), wantDashboards)
	}
	uids := map[string]bool{}
	for file, d := range ds {
		if want := wantDashboards[file]; d.UID != want {
			t.Errorf("%s: uid %q, want the stable %q", file, d.UID, want)
		}
		if uids[d.UID] {
			t.Errorf("%s: uid %q used twice", file, d.UID)
		}
		uids[d.UID] = true
		ids := map[int]bool{}
		n := 0
		for _, p := range flatPanels(d.Panels) {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d used twice", file, p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				continue
			}
			n++
			if p.Datasource == nil || p.Datasource.UID != "vigil-loki" || p.Datasource.Type != "loki" {
				t.Errorf("%s: panel %q: datasource %+v, want the provisioned loki uid vigil-loki", file, p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
			for _, tg := range p.Targets {
				if tg.Datasource.UID != "vigil-loki" || strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s: panel %q: target %+v", file, p.Title, tg)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no panels", file)
		}
	}
	// The provisioning file gives the datasource the uid the panels use.
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "provisioning", "datasources", "loki.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "uid: vigil-loki") {
		t.Errorf("provisioned datasource does not have uid vigil-loki")
	}
}

func flatPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatPanels(p.Panels)...)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// seedPipeline runs the corpus through what `vigil serve` does: the hook's
// block decisions (monitor mode), the rules engine, the alert dispatcher
// with the Loki alert channel, and the forwarder. It returns the events.
func seedPipeline(t *testing.T, c *Client, service string, start time.Time) []event.Event {
	t.Helper()
	dir := filepath.Join("testdata", "rules")
	var srcs []rules.Source
	for _, f := range []string{"seed-security-rules.yaml", "block.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, rules.Source{Name: f, Data: b})
	}
	eng, err := rules.Load(config.Rules{}, rules.WithSources(srcs...), rules.WithoutDefaults())
	if err != nil {
		t.Fatal(err)
	}
	acfg := config.Default(config.Paths{}).Alerts
	acfg.MaxPerMinute = 100000
	disp, err := alert.New(acfg, []alert.Channel{AlertChannel(config.Loki{Service: service, Alerts: true}, c)}, alert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := corpusEvents(t, start)
	for i := range evs {
		ev := &evs[i]
		if action, m := eng.Decide(ev); m != nil {
			d := &event.Decision{Rule: m.RuleID, Reason: m.Description, Mode: config.ModeMonitor}
			switch action {
			case rules.ActionBlock:
				d.Action = event.DecisionWouldDeny
			case rules.ActionAsk:
				d.Action = event.DecisionWouldAsk
			}
			if d.Action != "" {
				ev.Decision = d
			}
		}
		for _, m := range eng.Evaluate(ev) {
			disp.Handle(m)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := disp.Close(ctx); err != nil {
		t.Fatalf("alert dispatcher: %v", err)
	}
	st := openStore(t)
	seedCorpus(t, st, evs)
	rf := startForwarder(t, ForwarderOptions{Client: c, Source: StoreSource{st}, Service: service})
	waitDrained(t, st, time.Minute)
	rf.stop()
	return evs
}

// TestDashboardQueries seeds the corpus and runs every panel query of
// every dashboard against Loki: each must succeed and return data.
func TestDashboardQueries(t *testing.T) {
	t.Parallel()
	lk := sharedLoki(t)
	c := testClient(t, lk.URL(), FormatProtobuf)
	service := "vigil-dashboards"
	start := time.Now().Add(-10 * time.Minute)
	evs := seedPipeline(t, c, service, start)

	// The session variable: the session with the most scope violations.
	bySession := map[string]int{}
	best := ""
	for _, ev := range evs {
		if ev.Security.OutsideProjectScope {
			bySession[ev.SessionID]++
			if bySession[ev.SessionID] > bySession[best] {
				best = ev.SessionID
			}
		}
	}
	if best == "" {
		t.Fatal("no corpus session has a scope violation")
	}
	vars := strings.NewReplacer(
		"$service", service,
		"${service}", service,
		"$project", ".*",
		"$session", best,
		"$__auto", "1m",
		"$__interval", "1m",
		"$__range", "20m",
	)
	// Alerts reach Loki asynchronously: wait until they are queryable.
	waitFor(t, 30*time.Second, "alerts in Loki", func() bool {
		r, err := c.QueryRange(context.Background(), QueryRange{Query: fmt.Sprintf(`{service=%q, stream="alerts"}`, service), Start: start, End: time.Now().Add(time.Minute), Limit: 1})
		return err == nil && len(r.Streams) > 0
	})
	for file, d := range loadDashboards(t) {
		for _, p := range flatPanels(d.Panels) {
			for _, tg := range p.Targets {
				name := fmt.Sprintf("%s/%s/%s", strings.TrimSuffix(file, ".json"), p.Title, tg.RefID)
				t.Run(name, func(t *testing.T) {
					q := vars.Replace(tg.Expr)
					r, err := c.QueryRange(context.Background(), QueryRange{
						Query: q, Start: start.Add(-time.Minute), End: time.Now().Add(time.Minute),
						Step: 30 * time.Second, Limit: 1000, Direction: Backward,
					})
					if err != nil {
						t.Fatalf("query %s: %v", q, err)
					}
					n := 0
					for _, s := range r.Streams {
						n += len(s.Entries)
					}
					for _, s := range r.Series {
						for _, pt := range s.Points {
							if pt.Value != 0 {
								n++
							}
						}
					}
					reason, meantEmpty := emptyPanels[p.Title]
					switch {
					case n == 0 && !meantEmpty:
						t.Errorf("no data for %s", q)
					case n > 0 && meantEmpty:
						t.Errorf("panel listed as empty (%s) has data now; drop it from emptyPanels", reason)
					}
				})
			}
		}
		// Query variables resolve through the labels API.
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			label, selector, ok := parseLabelValues(v.Definition)
			if !ok {
				t.Errorf("%s: variable %s: cannot read definition %q", file, v.Name, v.Definition)
				continue
			}
			vals := labelValues(t, lk.URL(), label, vars.Replace(selector), start)
			if len(vals) == 0 {
				t.Errorf("%s: variable %s has no values", file, v.Name)
			}
		}
	}
}

// parseLabelValues reads label_values(<selector>, <label>).
func parseLabelValues(def string) (label, selector string, ok bool) {
	def = strings.TrimSpace(def)
	if !strings.HasPrefix(def, "label_values(") || !strings.HasSuffix(def, ")") {
		return "", "", false
	}
	inner := def[len("label_values(") : len(def)-1]
	i := strings.LastIndex(inner, ",")
	if i < 0 {
		return strings.TrimSpace(inner), "", true
	}
	return strings.TrimSpace(inner[i+1:]), strings.TrimSpace(inner[:i]), true
}

func labelValues(t *testing.T, base, label, selector string, start time.Time) []string {
	t.Helper()
	v := url.Values{}
	v.Set("query", selector)
	v.Set("start", fmt.Sprint(start.Add(-time.Minute).UnixNano()))
	v.Set("end", fmt.Sprint(time.Now().Add(time.Minute).UnixNano()))
	resp, err := http.Get(base + "/loki/api/v1/label/" + label + "/values?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" {
		t.Fatalf("label values %s %s: %v %+v", label, selector, err, out)
	}
	return out.Data
}
