package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// m builds a match of rule in session at t0+off.
func m(rule, session string, off time.Duration, sev rules.Severity, resp rules.Response) rules.Match {
	return rules.Match{
		RuleID: rule, Description: rule + " description", Severity: sev, Category: "cat_" + rule,
		Tags: []string{"T1059"}, Action: rules.ActionAlert, SessionID: session, Project: "proj",
		EventID: fmt.Sprintf("ev-%s-%s-%d", rule, session, off/time.Second), Time: t0.Add(off),
		Summary: "matched " + rule, Response: resp,
	}
}

func testConfig() config.Alerts {
	c := config.Default(config.Paths{}).Alerts
	c.MaxPerMinute = 0
	return c
}

type wantNote struct {
	kind  Kind
	rule  string
	sev   rules.Severity
	since int
}

type wantAlert struct {
	rule, session string
	count         int
	escalated     bool
	sev           rules.Severity
}

func TestPolicy(t *testing.T) {
	cd5 := rules.Response{ImmediateAlert: true, CooldownMinutes: 5}
	esc2 := rules.Response{ImmediateAlert: true, CooldownMinutes: 60, EscalateAfter: 2}
	quiet := rules.Response{ImmediateAlert: false, CooldownMinutes: 30, EscalateAfter: 2}
	noCD := rules.Response{ImmediateAlert: true, CooldownMinutes: 0}
	min := time.Minute
	tests := []struct {
		name    string
		cfg     func(*config.Alerts)
		matches []rules.Match
		notes   []wantNote
		alerts  []wantAlert
		title   string // substring of the last notification's title
	}{
		{
			name: "dedup counts every occurrence",
			matches: []rules.Match{
				m("r", "s1", 0, rules.High, cd5), m("r", "s1", 10*time.Second, rules.High, cd5),
				m("r", "s1", 20*time.Second, rules.High, cd5), m("r", "s1", 30*time.Second, rules.High, cd5),
			},
			notes:  []wantNote{{KindNew, "r", rules.High, 1}},
			alerts: []wantAlert{{"r", "s1", 4, false, rules.High}},
		},
		{
			name: "different sessions are different alerts",
			matches: []rules.Match{
				m("r", "s1", 0, rules.High, cd5), m("r", "s2", time.Second, rules.High, cd5),
			},
			notes:  []wantNote{{KindNew, "r", rules.High, 1}, {KindNew, "r", rules.High, 1}},
			alerts: []wantAlert{{"r", "s1", 1, false, rules.High}, {"r", "s2", 1, false, rules.High}},
		},
		{
			name: "key on rule only merges sessions",
			cfg:  func(c *config.Alerts) { c.Dedup.KeyFields = []string{"rule_name"} },
			matches: []rules.Match{
				m("r", "s1", 0, rules.High, cd5), m("r", "s2", time.Second, rules.High, cd5),
			},
			notes:  []wantNote{{KindNew, "r", rules.High, 1}},
			alerts: []wantAlert{{"r", "s1", 2, false, rules.High}},
		},
		{
			name: "cooldown holds repeats then notifies with the count",
			matches: []rules.Match{
				m("r", "s1", 0, rules.Medium, cd5), m("r", "s1", 1*min, rules.Medium, cd5),
				m("r", "s1", 2*min, rules.Medium, cd5), m("r", "s1", 6*min, rules.Medium, cd5),
			},
			notes:  []wantNote{{KindNew, "r", rules.Medium, 1}, {KindRepeat, "r", rules.Medium, 3}},
			alerts: []wantAlert{{"r", "s1", 4, false, rules.Medium}},
			title:  "fired 4 times in 6m, 3 since last notice",
		},
		{
			name: "no cooldown notifies every occurrence",
			matches: []rules.Match{
				m("r", "s1", 0, rules.High, noCD), m("r", "s1", time.Second, rules.High, noCD),
			},
			notes:  []wantNote{{KindNew, "r", rules.High, 1}, {KindRepeat, "r", rules.High, 1}},
			alerts: []wantAlert{{"r", "s1", 2, false, rules.High}},
		},
		{
			name: "escalation after N raises the notification one level once",
			matches: []rules.Match{
				m("r", "s1", 0, rules.High, esc2), m("r", "s1", time.Second, rules.High, esc2),
				m("r", "s1", 2*time.Second, rules.High, esc2), m("r", "s1", 3*time.Second, rules.High, esc2),
			},
			notes:  []wantNote{{KindNew, "r", rules.High, 1}, {KindEscalated, "r", rules.Critical, 2}},
			alerts: []wantAlert{{"r", "s1", 4, true, rules.High}},
			title:  "ESCALATED r",
		},
		{
			name: "critical escalation stays critical",
			matches: []rules.Match{
				m("r", "s1", 0, rules.Critical, rules.Response{ImmediateAlert: true, EscalateAfter: 1, CooldownMinutes: 5}),
				m("r", "s1", time.Second, rules.Critical, rules.Response{ImmediateAlert: true, EscalateAfter: 1, CooldownMinutes: 5}),
			},
			notes:  []wantNote{{KindNew, "r", rules.Critical, 1}, {KindEscalated, "r", rules.Critical, 1}},
			alerts: []wantAlert{{"r", "s1", 2, true, rules.Critical}},
		},
		{
			name: "immediate_alert false stores silently until escalation",
			matches: []rules.Match{
				m("net", "s1", 0, rules.Medium, quiet), m("net", "s1", time.Second, rules.Medium, quiet),
				m("net", "s1", 2*time.Second, rules.Medium, quiet),
			},
			notes:  []wantNote{{KindEscalated, "net", rules.High, 3}},
			alerts: []wantAlert{{"net", "s1", 3, true, rules.Medium}},
		},
		{
			name: "zero response means alert immediately",
			matches: []rules.Match{
				m("r", "s1", 0, rules.Low, rules.Response{}),
			},
			notes:  []wantNote{{KindNew, "r", rules.Low, 1}},
			alerts: []wantAlert{{"r", "s1", 1, false, rules.Low}},
		},
		{
			name: "quiet longer than the window opens a new alert",
			cfg:  func(c *config.Alerts) { c.Dedup.Window = 5 * min },
			matches: []rules.Match{
				m("r", "s1", 0, rules.High, cd5), m("r", "s1", 4*min, rules.High, cd5),
				m("r", "s1", 10*min, rules.High, cd5),
			},
			notes:  []wantNote{{KindNew, "r", rules.High, 1}, {KindNew, "r", rules.High, 1}},
			alerts: []wantAlert{{"r", "s1", 2, false, rules.High}, {"r", "s1", 1, false, rules.High}},
		},
		{
			name: "max notifications caps repeats, not counting",
			cfg:  func(c *config.Alerts) { c.Dedup.MaxNotifications = 2 },
			matches: []rules.Match{
				m("r", "s1", 0, rules.High, noCD), m("r", "s1", time.Second, rules.High, noCD),
				m("r", "s1", 2*time.Second, rules.High, noCD), m("r", "s1", 3*time.Second, rules.High, noCD),
			},
			notes:  []wantNote{{KindNew, "r", rules.High, 1}, {KindRepeat, "r", rules.High, 1}},
			alerts: []wantAlert{{"r", "s1", 4, false, rules.High}},
		},
		{
			name: "rate limit holds back and summarises once",
			cfg:  func(c *config.Alerts) { c.MaxPerMinute = 2 },
			matches: []rules.Match{
				m("a", "s1", 0, rules.High, cd5), m("a", "s2", 1*time.Second, rules.High, cd5),
				m("a", "s3", 2*time.Second, rules.High, cd5), m("a", "s4", 3*time.Second, rules.High, cd5),
				m("b", "s1", 4*time.Second, rules.Critical, cd5),
				m("c", "s9", 70*time.Second, rules.Low, cd5),
			},
			notes: []wantNote{
				{KindNew, "a", rules.High, 1}, {KindNew, "a", rules.High, 1},
				{KindSummary, "", rules.Critical, 0},
				{KindNew, "c", rules.Low, 1},
			},
			alerts: []wantAlert{
				{"a", "s1", 1, false, rules.High}, {"a", "s2", 1, false, rules.High}, {"a", "s3", 1, false, rules.High},
				{"a", "s4", 1, false, rules.High}, {"b", "s1", 1, false, rules.Critical}, {"c", "s9", 1, false, rules.Low},
			},
			title: "c: matched c",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c := NewCollector(cfg, nil)
			for _, mm := range tc.matches {
				c.Handle(mm)
			}
			notes := c.Notifications()
			var got []wantNote
			for _, n := range notes {
				got = append(got, wantNote{n.Kind, n.Alert.Rule, n.Severity, n.Since})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.notes) {
				t.Errorf("notifications:\n got %v\nwant %v", got, tc.notes)
			}
			var ga []wantAlert
			for _, a := range c.Alerts() {
				ga = append(ga, wantAlert{a.Rule, a.SessionID, a.Count, a.Escalated, a.Severity})
			}
			if fmt.Sprint(ga) != fmt.Sprint(tc.alerts) {
				t.Errorf("alerts:\n got %v\nwant %v", ga, tc.alerts)
			}
			if tc.title != "" && len(notes) > 0 && !strings.Contains(notes[len(notes)-1].Title, tc.title) {
				t.Errorf("last title %q does not contain %q", notes[len(notes)-1].Title, tc.title)
			}
		})
	}
}

func TestRateLimitSummaryText(t *testing.T) {
	cfg := testConfig()
	cfg.MaxPerMinute = 1
	c := NewCollector(cfg, nil)
	resp := rules.Response{ImmediateAlert: true, CooldownMinutes: 5}
	c.Handle(m("first", "s0", 0, rules.High, resp))
	for i := range 30 {
		c.Handle(m("x", fmt.Sprint("sx", i), time.Second, rules.High, resp))
	}
	for i := range 7 {
		c.Handle(m("y", fmt.Sprint("sy", i), 2*time.Second, rules.Medium, resp))
	}
	sum := c.Flush()
	if len(sum) != 1 {
		t.Fatalf("Flush gave %d notifications, want 1 summary", len(sum))
	}
	want := "held back 37 alerts (limit 1/min): 30× x, 7× y"
	if sum[0].Title != want || sum[0].Kind != KindSummary || sum[0].Severity != rules.High {
		t.Errorf("summary = %s %s %q, want summary HIGH %q", sum[0].Kind, sum[0].Severity, sum[0].Title, want)
	}
	if got := len(c.Alerts()); got != 38 {
		t.Errorf("%d alerts stored, want 38: held notifications still store their alerts", got)
	}
	if again := c.Flush(); len(again) != 0 {
		t.Errorf("second Flush gave %v, want nothing", again)
	}
}

func TestEventIDsBounded(t *testing.T) {
	c := NewCollector(testConfig(), nil)
	resp := rules.Response{ImmediateAlert: true, CooldownMinutes: 5}
	for i := range 250 {
		c.Handle(m("r", "s", time.Duration(i)*time.Second, rules.High, resp))
	}
	a := c.Alerts()[0]
	if a.Count != 250 || len(a.EventIDs) != MaxEventIDs {
		t.Fatalf("count %d, %d ids; want 250, %d", a.Count, len(a.EventIDs), MaxEventIDs)
	}
	if a.EventIDs[0] != "ev-r-s-0" || a.EventIDs[MaxEventIDs/2-1] != "ev-r-s-49" || a.EventIDs[MaxEventIDs-1] != "ev-r-s-249" || a.EventIDs[MaxEventIDs/2] != "ev-r-s-200" {
		t.Errorf("ids kept: first %s, %s | %s, last %s", a.EventIDs[0], a.EventIDs[49], a.EventIDs[50], a.EventIDs[99])
	}
	if !a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(249*time.Second)) {
		t.Errorf("first/last seen %s %s", a.FirstSeen, a.LastSeen)
	}
}

func TestSequenceEventIDs(t *testing.T) {
	c := NewCollector(testConfig(), nil)
	mm := m("seq", "s", 0, rules.Critical, rules.Response{})
	mm.EventIDs = []string{"e1", "e2", "e3"}
	mm.EventID = "e3"
	a, isNew, notes := c.Handle(mm)
	if !isNew || len(notes) != 1 || strings.Join(a.EventIDs, ",") != "e1,e2,e3" {
		t.Errorf("new=%v notes=%d ids=%v", isNew, len(notes), a.EventIDs)
	}
}

func TestIDsSortByTime(t *testing.T) {
	a, b := newID(t0), newID(t0.Add(time.Millisecond))
	if !(a < b) || len(a) != 36 || a[14] != '7' {
		t.Errorf("ids %s %s not sortable UUIDv7", a, b)
	}
}
