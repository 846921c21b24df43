package rules

import "github.com/vigil-sec/vigil/internal/event"

// ToEventFacts converts content facts to the form stored on the event
// (action_details.content_facts).
func ToEventFacts(cf *ContentFacts) *event.ContentFacts {
	if cf == nil {
		return nil
	}
	out := &event.ContentFacts{Kind: cf.Kind, Tags: cf.Tags}
	for _, f := range cf.Findings {
		out.Findings = append(out.Findings, event.ContentFinding{Rule: f.Rule, Severity: f.Severity.String(), Category: f.Category})
	}
	return out
}

// FromEventFacts converts stored content facts back for EvaluateInput.
func FromEventFacts(cf *event.ContentFacts) *ContentFacts {
	if cf == nil {
		return nil
	}
	out := &ContentFacts{Kind: cf.Kind, Tags: cf.Tags}
	for _, f := range cf.Findings {
		sev, _ := ParseSeverity(f.Severity)
		out.Findings = append(out.Findings, ContentFinding{Rule: f.Rule, Severity: sev, Category: f.Category})
	}
	return out
}
