// Package rules owns detection rules: the native YAML format and the seed's
// security-rules.yaml format, compilation, shell-aware matching, behavioural
// windows and per-session sequences, and PreToolUse decisions.
package rules

import (
	"fmt"
	"strings"
	"time"
)

// Severity orders findings; the zero value is invalid.
type Severity int

// Severities, lowest first.
const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)

var severityNames = [...]string{"", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

func (s Severity) String() string {
	if s < Low || s > Critical {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts LOW, MEDIUM, HIGH, CRITICAL in any case.
func ParseSeverity(s string) (Severity, error) {
	for i := Low; i <= Critical; i++ {
		if strings.EqualFold(s, severityNames[i]) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want LOW, MEDIUM, HIGH or CRITICAL)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Rule actions.
const (
	ActionAlert = "alert"
	ActionBlock = "block"
	ActionAsk   = "ask"
)

// Response is a rule's alerting policy (the seed's response block).
type Response struct {
	ImmediateAlert  bool `json:"immediate_alert"`
	CooldownMinutes int  `json:"cooldown_minutes"`
	EscalateAfter   int  `json:"escalate_after"`
}

// Match is one rule firing on one event (or, for sequence and behavioural
// rules, on the event that completed the pattern). It is the only thing the
// alert dispatcher needs from this package.
type Match struct {
	RuleID      string            `json:"rule"`
	Description string            `json:"description"`
	Severity    Severity          `json:"severity"`
	Category    string            `json:"category"`
	Tags        []string          `json:"tags,omitempty"`
	Action      string            `json:"action"`
	EventID     string            `json:"event_id"`
	EventIDs    []string          `json:"event_ids,omitempty"` // all events of a sequence/window, oldest first
	SessionID   string            `json:"session_id"`
	Project     string            `json:"project"`
	Host        string            `json:"host,omitempty"`
	Time        time.Time         `json:"time"`
	Summary     string            `json:"summary"` // one human line: what matched
	Context     map[string]string `json:"context,omitempty"`
	Response    Response          `json:"response"`
}
