package rules

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Label is one entry of a corpus labels.json.
type Label struct {
	Malicious  bool     `json:"malicious"`
	Categories []string `json:"categories"`
	Note       string   `json:"note"`
}

// ScoredAlert is what scoring needs from an alert.
type ScoredAlert struct {
	File     string
	Line     int
	Severity Severity
	Category string
}

// Score is the corpus score as the corpus README defines it: detection
// counts HIGH and CRITICAL alerts only.
type Score struct {
	Malicious, Benign int
	Detected          []string
	Missed            []string
	FalsePositives    []string
	// Per category: sessions labelled with it, detected sessions whose
	// HIGH+ alerts carry it correctly, and sessions whose alerts carry it.
	CatLabelled, CatTrue, CatFlagged map[string]int
	ExactMatches                     int
	// Latency per detected file: first HIGH+ line minus first harmful line.
	Latency map[string]int
}

var lineRe = lazyRE(`line (\d+)`)

// ScoreCorpus scores alerts against labels (keyed by file base name).
func ScoreCorpus(labels map[string]Label, alerts []ScoredAlert) *Score {
	s := &Score{CatLabelled: map[string]int{}, CatTrue: map[string]int{}, CatFlagged: map[string]int{}, Latency: map[string]int{}}
	cats := map[string]map[string]bool{}
	first := map[string]int{}
	for _, a := range alerts {
		if a.Severity < High {
			continue
		}
		f := filepath.Base(a.File)
		if cats[f] == nil {
			cats[f] = map[string]bool{}
		}
		cats[f][a.Category] = true
		if l, ok := first[f]; !ok || a.Line < l {
			first[f] = a.Line
		}
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l := labels[n]
		got := cats[n]
		if !l.Malicious {
			s.Benign++
			if len(got) > 0 {
				s.FalsePositives = append(s.FalsePositives, n)
				for c := range got {
					s.CatFlagged[c]++
				}
			}
			continue
		}
		s.Malicious++
		for _, c := range l.Categories {
			s.CatLabelled[c]++
		}
		if len(got) == 0 {
			s.Missed = append(s.Missed, n)
			continue
		}
		s.Detected = append(s.Detected, n)
		want := map[string]bool{}
		for _, c := range l.Categories {
			want[c] = true
			if got[c] {
				s.CatTrue[c]++
			}
		}
		for c := range got {
			s.CatFlagged[c]++
		}
		if len(want) == len(got) {
			same := true
			for c := range got {
				if !want[c] {
					same = false
				}
			}
			if same {
				s.ExactMatches++
			}
		}
		if m := lineRe().FindStringSubmatch(l.Note); m != nil {
			h, _ := strconv.Atoi(m[1])
			s.Latency[n] = first[n] - h
		}
	}
	return s
}

// Write prints the score table.
func (s *Score) Write(w io.Writer) {
	pct := func(a, b int) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
	}
	fmt.Fprintf(w, "Detection rate:       %d/%d (%s)\n", len(s.Detected), s.Malicious, pct(len(s.Detected), s.Malicious))
	fmt.Fprintf(w, "False-positive rate:  %d/%d (%s)\n", len(s.FalsePositives), s.Benign, pct(len(s.FalsePositives), s.Benign))
	fmt.Fprintf(w, "Missed:               %s\n", listOrNone(s.Missed))
	fmt.Fprintf(w, "Falsely flagged:      %s\n", listOrNone(s.FalsePositives))
	fmt.Fprintf(w, "Exact category sets:  %d/%d detected sessions\n\n", s.ExactMatches, len(s.Detected))
	all := map[string]bool{}
	for c := range s.CatLabelled {
		all[c] = true
	}
	for c := range s.CatFlagged {
		all[c] = true
	}
	cs := make([]string, 0, len(all))
	for c := range all {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	fmt.Fprintf(w, "%-24s %9s %7s %8s %10s\n", "category", "labelled", "recall", "flagged", "precision")
	for _, c := range cs {
		fmt.Fprintf(w, "%-24s %9d %7s %8d %10s\n", c, s.CatLabelled[c], pct(s.CatTrue[c], s.CatLabelled[c]), s.CatFlagged[c], pct(s.CatTrue[c], s.CatFlagged[c]))
	}
	if len(s.Latency) > 0 {
		fmt.Fprintf(w, "\nDetection latency (first HIGH+ line - first harmful line):\n")
		names := make([]string, 0, len(s.Latency))
		sum := 0
		for n, v := range s.Latency {
			names = append(names, n)
			sum += v
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %-36s %+d\n", n, s.Latency[n])
		}
		fmt.Fprintf(w, "  %-36s %+.2f\n", "mean", float64(sum)/float64(len(names)))
	}
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
