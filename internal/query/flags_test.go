package query

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

func TestFlagsFilter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	yes := true
	cases := []struct {
		name string
		fl   Flags
		want store.Filter
		err  bool
	}{
		{"empty", Flags{}, store.Filter{}, false},
		{"lists split and dedup", Flags{Projects: []string{"a,b", "a"}, Tools: []string{"Bash"}},
			store.Filter{Projects: []string{"a", "b"}, Tools: []string{"Bash"}}, false},
		{"flags and text", Flags{OutsideScope: &yes, Text: []string{"curl"}},
			store.Filter{OutsideScope: &yes, Lines: []store.LineFilter{{Op: store.LineContains, Value: "curl"}}}, false},
		{"since hours", Flags{Since: "2h"}, store.Filter{From: now.Add(-2 * time.Hour)}, false},
		{"since days", Flags{Since: "7d"}, store.Filter{From: now.Add(-7 * 24 * time.Hour)}, false},
		{"from date to rfc3339", Flags{From: "2026-11-20", To: "2026-11-21T06:00:00Z"},
			store.Filter{From: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)}, false},
		{"local date time", Flags{From: "2026-11-20 14:30"}, store.Filter{From: time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)}, false},
		{"later of since and from", Flags{Since: "1h", From: "2026-11-01"}, store.Filter{From: now.Add(-time.Hour)}, false},
		{"bad since", Flags{Since: "two hours"}, store.Filter{}, true},
		{"bad from", Flags{From: "yesterday"}, store.Filter{}, true},
		{"empty range", Flags{From: "2026-11-21", To: "2026-11-20"}, store.Filter{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.fl.Filter(now, time.UTC)
			if tc.err {
				if err == nil {
					t.Fatalf("no error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	yes, no := true, false
	a := store.Filter{Projects: []string{"a", "b"}, Lines: []store.LineFilter{{Op: store.LineContains, Value: "x"}}, Limit: 100,
		From: time.Unix(100, 0), OutsideScope: &yes}
	b := store.Filter{Projects: []string{"b", "c"}, Tools: []string{"Bash"}, Lines: []store.LineFilter{{Op: store.LineContains, Value: "y"}},
		From: time.Unix(200, 0), To: time.Unix(300, 0), Limit: 10}
	got := Merge(a, b)
	want := store.Filter{Projects: []string{"b"}, Tools: []string{"Bash"}, OutsideScope: &yes,
		Lines: []store.LineFilter{{Op: store.LineContains, Value: "x"}, {Op: store.LineContains, Value: "y"}},
		From:  time.Unix(200, 0), To: time.Unix(300, 0), Limit: 10}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if m := Merge(store.Filter{Projects: []string{"a"}}, store.Filter{Projects: []string{"b"}}); !m.None {
		t.Fatalf("disjoint projects should match nothing: %+v", m)
	}
	if m := Merge(store.Filter{Sensitive: &yes}, store.Filter{Sensitive: &no}); !m.None {
		t.Fatalf("contradicting flags should match nothing: %+v", m)
	}
}
