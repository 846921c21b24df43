package cli

import (
	"encoding/json"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/rules"
)

// writtenContent extracts the text a Write, Edit, MultiEdit or
// NotebookEdit payload puts into a file, and what an Edit replaces. The
// hook analyses it and then discards it; only the facts are kept.
func writtenContent(raw []byte, tool string) (text, old string, ok bool) {
	var p struct {
		ToolInput struct {
			Content   string `json:"content"`
			NewString string `json:"new_string"`
			OldString string `json:"old_string"`
			NewSource string `json:"new_source"`
			Edits     []struct {
				OldString string `json:"old_string"`
				NewString string `json:"new_string"`
			} `json:"edits"`
		} `json:"tool_input"`
	}
	switch tool {
	case "Write", "Edit", "MultiEdit", "NotebookEdit":
	default:
		return "", "", false
	}
	if json.Unmarshal(raw, &p) != nil {
		return "", "", false
	}
	in := p.ToolInput
	switch tool {
	case "Write":
		return in.Content, "", true
	case "Edit":
		return in.NewString, in.OldString, true
	case "NotebookEdit":
		return in.NewSource, "", true
	}
	var news, olds []string
	for _, e := range in.Edits {
		news = append(news, e.NewString)
		olds = append(olds, e.OldString)
	}
	return strings.Join(news, "\n"), strings.Join(olds, "\n"), true
}

func toEventFacts(cf *rules.ContentFacts) *event.ContentFacts {
	if cf == nil {
		return nil
	}
	out := &event.ContentFacts{Kind: cf.Kind, Tags: cf.Tags}
	for _, f := range cf.Findings {
		out.Findings = append(out.Findings, event.ContentFinding{Rule: f.Rule, Severity: f.Severity.String(), Category: f.Category})
	}
	return out
}

func toRuleFacts(cf *event.ContentFacts) *rules.ContentFacts {
	if cf == nil {
		return nil
	}
	out := &rules.ContentFacts{Kind: cf.Kind, Tags: cf.Tags}
	for _, f := range cf.Findings {
		sev, _ := rules.ParseSeverity(f.Severity)
		out.Findings = append(out.Findings, rules.ContentFinding{Rule: f.Rule, Severity: sev, Category: f.Category})
	}
	return out
}

// decision maps a rule engine verdict to the event's decision.
func decision(action string, m *rules.Match) *event.Decision {
	if m == nil {
		return nil
	}
	d := &event.Decision{Rule: m.RuleID, Reason: m.Description}
	if m.Summary != "" {
		d.Reason = m.Description + " (" + m.Summary + ")"
	}
	switch action {
	case rules.ActionBlock:
		d.Action = event.DecisionDeny
	case rules.ActionAsk:
		d.Action = event.DecisionAsk
	default:
		return nil
	}
	return d
}
