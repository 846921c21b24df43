package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// TestRulerRulesFireOnLoki loads the exported rules into Loki's ruler,
// seeds the corpus and checks that every exported rule Vigil's own engine
// fires on the corpus also fires in Loki.
func TestRulerRulesFireOnLoki(t *testing.T) {
	t.Parallel()
	lk := sharedLoki(t)
	service := "vigil-ruler"
	paths := []string{
		filepath.Join("testdata", "rules", "seed-security-rules.yaml"),
		filepath.Join("testdata", "rules", "block.yaml"),
		filepath.Join("testdata", "ruler", "native.yaml"),
	}
	// The built-in set first, as `vigil rules export` does, then the files.
	var files []RuleFile
	for _, d := range rules.DefaultSources() {
		files = append(files, RuleFile{Name: d.Name, Data: d.Data})
	}
	files = append(files, readRuleFiles(t, paths...)...)
	x, err := ExportRuler(files, RulerOptions{Service: service, Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	out, err := x.YAML()
	if err != nil {
		t.Fatal(err)
	}
	// auth_enabled: false means tenant "fake".
	dir := filepath.Join(lk.Dir(), "rules", "fake")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vigil.yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, r := range x.Groups.Groups[0].Rules {
		exported[r.Labels["vigil_rule"]] = true
	}
	// The ruler accepts the file: every rule shows up in its API.
	waitFor(t, 30*time.Second, "the ruler to load the exported rules", func() bool {
		return len(rulerRuleNames(t, lk.URL())) >= len(exported)
	})

	// What Vigil's own engine fires on the corpus.
	var srcs []rules.Source
	for _, f := range readRuleFiles(t, paths...) {
		srcs = append(srcs, rules.Source{Name: f.Name, Data: f.Data})
	}
	eng, err := rules.Load(config.Rules{Defaults: true}, rules.WithSources(srcs...))
	if err != nil {
		t.Fatal(err)
	}
	evs := corpusEvents(t, time.Now().Add(-3*time.Minute))
	want := map[string]bool{}
	for i := range evs {
		for _, m := range eng.Evaluate(&evs[i]) {
			if exported[m.RuleID] {
				want[m.RuleID] = true
			}
		}
	}
	if len(want) < 3 {
		t.Fatalf("only %d exported rules fire in Vigil on the corpus: %v", len(want), want)
	}
	st := openStore(t)
	seedCorpus(t, st, evs)
	rf := startForwarder(t, ForwarderOptions{Client: testClient(t, lk.URL(), FormatProtobuf), Source: StoreSource{st}, Service: service})
	waitDrained(t, st, time.Minute)
	rf.stop()

	var firing map[string]bool
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		firing = firingRules(t, lk.URL())
		missing := 0
		for r := range want {
			if !firing[r] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	var missing []string
	for r := range want {
		if !firing[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("rules Vigil fires on the corpus but Loki's ruler does not: %v (firing: %v)", missing, firing)
	}
	t.Logf("rules firing in both Vigil and Loki: %d", len(want))
}

func rulerRuleNames(t testing.TB, base string) []string {
	t.Helper()
	var out struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name string `json:"name"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	getJSON(t, base+"/prometheus/api/v1/rules", &out)
	var names []string
	for _, g := range out.Data.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Name)
		}
	}
	return names
}

// firingRules returns the vigil_rule label of every firing alert.
func firingRules(t testing.TB, base string) map[string]bool {
	t.Helper()
	var out struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	getJSON(t, base+"/prometheus/api/v1/alerts", &out)
	m := map[string]bool{}
	for _, a := range out.Data.Alerts {
		if a.State == "firing" {
			m[a.Labels["vigil_rule"]] = true
		}
	}
	return m
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, fmt.Errorf("decode: %w", err))
	}
}
