package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestOverview(t *testing.T) {
	ctx := context.Background()
	s := openUITestStore(t)
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := s.Append(ctx, uiSessionFixture(t, base)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                    string
		from, to                time.Time
		bucket                  time.Duration
		wantBuckets             int
		events, flagged, blockd int64
		sessions                int64
		tools                   string
		projects                string
	}{
		{"both hours", base, base.Add(2 * time.Hour), time.Hour, 2, 12, 2, 1, 2,
			"[{Bash 3} {Read 2} {Grep 1}]", "[{api 9} {web 2} { 1}]"},
		{"first hour by 5 min", base, base.Add(time.Hour), 0, 12, 9, 2, 1, 1,
			"[{Bash 2} {Read 2} {Grep 1}]", "[{api 9}]"},
		{"nothing before", base.Add(-48 * time.Hour), base.Add(-24 * time.Hour), 6 * time.Hour, 5, 0, 0, 0, 0, "[]", "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := s.Overview(ctx, tc.from, tc.to, tc.bucket)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Times) != tc.wantBuckets || len(o.Events) != tc.wantBuckets {
				t.Errorf("buckets: %d, want %d", len(o.Times), tc.wantBuckets)
			}
			if o.TotalEvents != tc.events || o.TotalFlagged != tc.flagged || o.TotalBlocked != tc.blockd || o.Sessions != tc.sessions {
				t.Errorf("totals: events %d flagged %d blocked %d sessions %d", o.TotalEvents, o.TotalFlagged, o.TotalBlocked, o.Sessions)
			}
			var sum int64
			for _, n := range o.Events {
				sum += n
			}
			if sum != o.TotalEvents {
				t.Errorf("series sum %d != total %d", sum, o.TotalEvents)
			}
			if got := fmt.Sprint(nonNil(o.Tools)); got != tc.tools {
				t.Errorf("tools %s, want %s", got, tc.tools)
			}
			if got := fmt.Sprint(nonNil(o.Projects)); got != tc.projects {
				t.Errorf("projects %s, want %s", got, tc.projects)
			}
		})
	}
	if _, err := s.Overview(ctx, base, base.Add(365*24*time.Hour), 0); err == nil {
		t.Error("a year in 5-minute buckets: want an error")
	}
}

func nonNil(c []Count) []Count {
	if c == nil {
		return []Count{}
	}
	return c
}
