package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Query directions.
const (
	Forward  = "forward"
	Backward = "backward"
)

// QueryRange is one /loki/api/v1/query_range request.
type QueryRange struct {
	Query     string
	Start     time.Time
	End       time.Time
	Limit     int           // entries for log queries (Loki's default 100 when 0)
	Direction string        // Forward or Backward (Loki's default)
	Step      time.Duration // metric queries only; 0 lets Loki choose
}

// Result is the data of a successful query.
type Result struct {
	// Type is "streams" (log queries), "matrix" (range metric queries) or
	// "vector".
	Type    string
	Streams []ResultStream
	Series  []Series
}

// ResultStream is one stream of a log query: its labels (structured
// metadata merged in, as Loki returns them) and its entries, oldest first
// for forward queries.
type ResultStream struct {
	Labels  map[string]string
	Entries []ResultEntry
}

// ResultEntry is one line Loki returned.
type ResultEntry struct {
	Time time.Time
	Line string
}

// Series is one series of a metric query.
type Series struct {
	Metric map[string]string
	Points []Point
}

// Point is one sample.
type Point struct {
	Time  time.Time
	Value float64
}

// Entries flattens the streams into one list sorted by time (then by
// labels, so the order is stable), each with its stream's labels.
func (r *Result) Entries() []LabeledEntry {
	var out []LabeledEntry
	for _, s := range r.Streams {
		for _, e := range s.Entries {
			out = append(out, LabeledEntry{Labels: s.Labels, ResultEntry: e})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// LabeledEntry is a ResultEntry with the labels of its stream.
type LabeledEntry struct {
	Labels map[string]string
	ResultEntry
}

// QueryError is a query Loki refused or failed.
type QueryError struct {
	Status int
	Body   string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("loki query: status %d: %s", e.Status, e.Body)
}

// QueryRange runs q and decodes the answer.
func (c *Client) QueryRange(ctx context.Context, q QueryRange) (*Result, error) {
	v := url.Values{}
	v.Set("query", q.Query)
	if !q.Start.IsZero() {
		v.Set("start", strconv.FormatInt(q.Start.UnixNano(), 10))
	}
	if !q.End.IsZero() {
		v.Set("end", strconv.FormatInt(q.End.UnixNano(), 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Direction != "" {
		v.Set("direction", q.Direction)
	}
	if q.Step > 0 {
		v.Set("step", strconv.FormatFloat(q.Step.Seconds(), 'f', -1, 64))
	}
	return c.getQuery(ctx, "/loki/api/v1/query_range", v)
}

// Query runs an instant query at t (now when zero).
func (c *Client) Query(ctx context.Context, query string, t time.Time, limit int) (*Result, error) {
	v := url.Values{}
	v.Set("query", query)
	if !t.IsZero() {
		v.Set("time", strconv.FormatInt(t.UnixNano(), 10))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	return c.getQuery(ctx, "/loki/api/v1/query", v)
}

func (c *Client) getQuery(ctx context.Context, path string, v url.Values) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.QueryTimeout)
	defer cancel()
	// GET, as the API documents; a long query (the forwarder's check of a
	// batch's event ids) goes as a POST form instead, which Loki accepts
	// too, so no proxy's URL length limit is hit.
	form := v.Encode()
	var req *http.Request
	var err error
	if len(form) <= 4<<10 {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path)+"?"+form, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), strings.NewReader(form))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("loki query: %w", err)
	}
	c.decorate(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loki query: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
	if err != nil {
		return nil, fmt.Errorf("loki query: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &QueryError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	return decodeResult(body)
}

func decodeResult(body []byte) (*Result, error) {
	var raw struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("loki query: decode answer: %w", err)
	}
	if raw.Status != "success" {
		return nil, fmt.Errorf("loki query: status %q", raw.Status)
	}
	r := &Result{Type: raw.Data.ResultType}
	switch r.Type {
	case "streams":
		var ss []struct {
			Stream map[string]string `json:"stream"`
			Values [][]json.RawMessage
		}
		if err := json.Unmarshal(raw.Data.Result, &ss); err != nil {
			return nil, fmt.Errorf("loki query: decode streams: %w", err)
		}
		for _, s := range ss {
			rs := ResultStream{Labels: s.Stream, Entries: make([]ResultEntry, 0, len(s.Values))}
			for _, v := range s.Values {
				if len(v) < 2 {
					return nil, errors.New("loki query: stream value with fewer than 2 elements")
				}
				ts, err := decodeNanos(v[0])
				if err != nil {
					return nil, err
				}
				var line string
				if err := json.Unmarshal(v[1], &line); err != nil {
					return nil, fmt.Errorf("loki query: decode line: %w", err)
				}
				rs.Entries = append(rs.Entries, ResultEntry{Time: ts, Line: line})
			}
			r.Streams = append(r.Streams, rs)
		}
	case "matrix", "vector":
		var ss []struct {
			Metric map[string]string   `json:"metric"`
			Values [][]json.RawMessage `json:"values"`
			Value  []json.RawMessage   `json:"value"`
		}
		if err := json.Unmarshal(raw.Data.Result, &ss); err != nil {
			return nil, fmt.Errorf("loki query: decode %s: %w", r.Type, err)
		}
		for _, s := range ss {
			se := Series{Metric: s.Metric}
			vals := s.Values
			if s.Value != nil {
				vals = [][]json.RawMessage{s.Value}
			}
			for _, v := range vals {
				p, err := decodePoint(v)
				if err != nil {
					return nil, err
				}
				se.Points = append(se.Points, p)
			}
			r.Series = append(r.Series, se)
		}
	case "scalar":
		var v []json.RawMessage
		if err := json.Unmarshal(raw.Data.Result, &v); err != nil {
			return nil, fmt.Errorf("loki query: decode scalar: %w", err)
		}
		p, err := decodePoint(v)
		if err != nil {
			return nil, err
		}
		r.Series = []Series{{Points: []Point{p}}}
	default:
		return nil, fmt.Errorf("loki query: unknown result type %q", r.Type)
	}
	return r, nil
}

func decodeNanos(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, fmt.Errorf("loki query: decode timestamp: %w", err)
	}
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("loki query: timestamp %q: %w", s, err)
	}
	return time.Unix(0, ns), nil
}

func decodePoint(v []json.RawMessage) (Point, error) {
	if len(v) != 2 {
		return Point{}, errors.New("loki query: sample is not [time, value]")
	}
	var sec float64
	if err := json.Unmarshal(v[0], &sec); err != nil {
		return Point{}, fmt.Errorf("loki query: decode sample time: %w", err)
	}
	var s string
	if err := json.Unmarshal(v[1], &s); err != nil {
		return Point{}, fmt.Errorf("loki query: decode sample value: %w", err)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Point{}, fmt.Errorf("loki query: sample value %q: %w", s, err)
	}
	return Point{Time: time.Unix(0, int64(sec*1e9)), Value: f}, nil
}

// QueryAll runs a log query forward from q.Start to q.End, paging past
// Loki's per-query entry limit, and returns every entry oldest first.
// Entries at a page boundary are fetched again by the next page and
// dropped here by (labels, time, line), so a page edge never duplicates or
// loses an entry; genuine duplicates inside a page are kept.
func (c *Client) QueryAll(ctx context.Context, q QueryRange, pageSize int) ([]LabeledEntry, error) {
	if pageSize <= 0 {
		pageSize = 5000
	}
	q.Direction = Forward
	q.Limit = pageSize
	if q.End.IsZero() {
		q.End = time.Now().Add(time.Minute)
	}
	var out []LabeledEntry
	var edge map[string]int // entries at the last page's final timestamp
	for {
		r, err := c.QueryRange(ctx, q)
		if err != nil {
			return nil, err
		}
		page := r.Entries()
		if len(page) == 0 {
			return out, nil
		}
		last := page[len(page)-1].Time
		seen := edge
		edge = map[string]int{}
		for _, e := range page {
			k := entryKey(e)
			if e.Time.Equal(q.Start) && seen[k] > 0 {
				seen[k]--
				if e.Time.Equal(last) {
					edge[k]++
				}
				continue
			}
			if e.Time.Equal(last) {
				edge[k]++
			}
			out = append(out, e)
		}
		if len(page) < pageSize {
			return out, nil
		}
		if last.Equal(q.Start) {
			return nil, fmt.Errorf("loki query: more than %d entries share timestamp %s; raise the page size", pageSize, last.Format(time.RFC3339Nano))
		}
		q.Start = last
	}
}

func entryKey(e LabeledEntry) string {
	keys := make([]string, 0, len(e.Labels))
	for k := range e.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(e.Labels[k])
		b.WriteByte(0)
	}
	b.WriteString(e.Line)
	return b.String()
}
