package rules

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// SeedFile is what the seed's security-rules.yaml declares besides its
// rules. The alert dispatcher reads its own sections (notifications,
// deduplication, settings.max_alerts_per_minute) with alert.FromSeed; this
// package checks that they are there in the right shape and keeps the
// values rules need.
type SeedFile struct {
	Path     string
	Settings SeedSettings
	// Sections lists the top-level sections present, e.g. "notifications".
	Sections []string
}

// SeedSettings is the seed's settings block.
type SeedSettings struct {
	Enabled            bool
	PollIntervalSec    int // obsolete: the server tails the spool
	AlertRetentionDays int
	MaxAlertsPerMinute int
}

// seed compiles the seed format. Patterns are "FIELD.*REGEX": REGEX is
// matched against FIELD of the event (file_path means file_path and every
// path the action touches), never against a serialised event.
func (l *loader) seed(root *yaml.Node) ([]*Rule, *SeedFile) {
	sf := &SeedFile{Path: l.file, Settings: SeedSettings{Enabled: true}}
	var out []*Rule
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		sf.Sections = append(sf.Sections, k.Value)
		switch k.Value {
		case "settings":
			l.pairs(v, "settings", map[string]func(v *yaml.Node){
				"enabled":               func(v *yaml.Node) { sf.Settings.Enabled = l.boolean(v, "settings.enabled") },
				"poll_interval":         func(v *yaml.Node) { sf.Settings.PollIntervalSec = l.integer(v, "settings.poll_interval", 0) },
				"alert_retention_days":  func(v *yaml.Node) { sf.Settings.AlertRetentionDays = l.integer(v, "settings.alert_retention_days", 0) },
				"max_alerts_per_minute": func(v *yaml.Node) { sf.Settings.MaxAlertsPerMinute = l.integer(v, "settings.max_alerts_per_minute", 0) },
			})
		case "rules":
			if v.Kind != yaml.MappingNode {
				l.errAt(v, "rules", "", "must be a mapping of rule name to rule")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if r := l.seedRule(v.Content[j], v.Content[j+1]); r != nil {
					out = append(out, r)
				}
			}
		case "notifications", "deduplication", "performance", "reliability":
			// Read by the alert dispatcher (alert.FromSeed) or obsolete.
			if v.Kind != yaml.MappingNode {
				l.errAt(v, k.Value, "", "must be a mapping")
			}
		default:
			l.errAt(k, k.Value, k.Value, "unknown section (want settings, rules, notifications, deduplication, performance, reliability)")
		}
	}
	if !sf.Settings.Enabled {
		for _, r := range out {
			r.Enabled = false
		}
	}
	return out, sf
}

func (l *loader) seedRule(k, n *yaml.Node) *Rule {
	field := "rules." + k.Value
	r := &Rule{ID: k.Value, Action: ActionAlert, Enabled: true, Kind: kindPlain, Response: Response{ImmediateAlert: true}, Source: l.file + ":" + strconv.Itoa(k.Line)}
	var pattern *yaml.Node
	var thr *yaml.Node
	l.pairs(n, field, map[string]func(v *yaml.Node){
		"enabled":        func(v *yaml.Node) { r.Enabled = l.boolean(v, field+".enabled") },
		"severity":       func(v *yaml.Node) { r.Severity = l.severity(v, field+".severity") },
		"pattern":        func(v *yaml.Node) { pattern = v },
		"description":    func(v *yaml.Node) { r.Description = l.str(v, field+".description") },
		"category":       func(v *yaml.Node) { r.Category = l.str(v, field+".category") },
		"response":       func(v *yaml.Node) { r.Response = l.response(v, field+".response") },
		"context_fields": func(v *yaml.Node) { r.ContextFields = l.strs(v, field+".context_fields") },
		"threshold":      func(v *yaml.Node) { thr = v },
	})
	if !validID(r.ID) {
		l.errAt(k, field, r.ID, "rule name must be letters, digits, '.', '_' or '-'")
	}
	if r.Severity == 0 && !hasKey(n, "severity") {
		l.errAt(n, field+".severity", "", "is required")
	}
	if r.Category == "" {
		l.errAt(n, field+".category", "", "is required")
	}
	hasPattern := pattern != nil && pattern.Tag != "!!null" && pattern.Value != ""
	switch {
	case thr != nil:
		r.Kind = kindThreshold
		r.threshold, r.cond = l.seedThreshold(thr, field+".threshold")
		if hasPattern {
			if c := l.seedPattern(pattern, field+".pattern"); c != nil && r.cond != nil {
				r.cond = allCond{r.cond, c}
			}
		}
	case hasPattern:
		r.cond = l.seedPattern(pattern, field+".pattern")
	default:
		l.errAt(n, field+".pattern", "", "is required unless the rule has a threshold")
	}
	return r
}

// seedThreshold maps the seed's behavioural thresholds onto windows:
// operations_per_minute N over window_minutes W fires when one session
// makes N*W tool calls within W minutes; violations_per_session N within W
// minutes fires on the Nth scope violation within W minutes.
func (l *loader) seedThreshold(v *yaml.Node, field string) (*thresholdSpec, cond) {
	var opm, vps, win int
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"operations_per_minute":  func(v *yaml.Node) { opm = l.integer(v, field+".operations_per_minute", 1) },
		"violations_per_session": func(v *yaml.Node) { vps = l.integer(v, field+".violations_per_session", 1) },
		"window_minutes":         func(v *yaml.Node) { win = l.integer(v, field+".window_minutes", 1) },
	})
	if win == 0 {
		l.errAt(v, field+".window_minutes", "", "is required")
		win = 1
	}
	toolCall := &fieldCond{name: "hook_event", get: fieldGetters["hook_event"], m: newStrMatcher([]string{"PreToolUse"}, false)}
	switch {
	case opm > 0 && vps == 0:
		n := min(opm*win, maxThreshold)
		return &thresholdSpec{Count: n, Window: time.Duration(win) * time.Minute}, toolCall
	case vps > 0 && opm == 0:
		scope := &fieldCond{name: "outside_project_scope", get: fieldGetters["outside_project_scope"], m: newStrMatcher([]string{"true"}, false)}
		return &thresholdSpec{Count: min(vps, maxThreshold), Window: time.Duration(win) * time.Minute}, allCond{toolCall, scope}
	}
	l.errAt(v, field, "", "needs exactly one of operations_per_minute or violations_per_session")
	return nil, nil
}

// seedPattern compiles "FIELD.*REGEX". A prefix that is not a known field
// makes the whole pattern a regex over the command, file paths and URL.
func (l *loader) seedPattern(v *yaml.Node, field string) cond {
	src := v.Value
	if _, err := regexp.Compile(src); err != nil {
		l.errAt(v, field, src, "bad regular expression: %v", err)
		return nil
	}
	name, rest, ok := strings.Cut(src, ".*")
	if ok {
		if _, known := lookupField(name); known && rest != "" {
			rest = wordBounded(rest)
			if _, err := regexp.Compile(rest); err != nil {
				l.errAt(v, field, rest, "bad regular expression after %s.*: %v", name, err)
				return nil
			}
			re := &lazyRe{src: rest}
			if name == "command" || name == "action_details.command" {
				return &seedCmdCond{re: re}
			}
			g, _ := lookupField(name)
			return &fieldCond{name: name, get: g, m: &strMatcher{re: re}}
		}
	}
	re := &lazyRe{src: src}
	return anyCond{
		&seedCmdCond{re: re},
		&fieldCond{name: "file_path", get: fieldGetters["file_path"], m: &strMatcher{re: re}},
		&fieldCond{name: "url", get: fieldGetters["url"], m: &strMatcher{re: re}},
	}
}

// wordBounded puts \b before the alternatives of a pattern that is one
// alternation group ("(?:sudo|su|chmod)") when they start with a word
// character, and after those that are a bare word. The seed meant words: without this, su
// matches "summary" and nc matches "rsync".
func wordBounded(re string) string {
	var inner, open string
	switch {
	case strings.HasPrefix(re, "(?:") && strings.HasSuffix(re, ")"):
		inner, open = re[3:len(re)-1], "(?:"
	case strings.HasPrefix(re, "(") && strings.HasSuffix(re, ")") && !strings.HasPrefix(re, "(?"):
		inner, open = re[1:len(re)-1], "("
	default:
		return re
	}
	alts, ok := splitAlternation(inner)
	if !ok {
		return re
	}
	for i, a := range alts {
		if a == "" {
			continue
		}
		if isWordByte(a[0]) {
			a = `\b` + a
		}
		if bareWord().MatchString(alts[i]) {
			a += `\b`
		}
		alts[i] = a
	}
	return open + strings.Join(alts, "|") + ")"
}

var bareWord = lazyRE(`^\w+$`)

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// splitAlternation splits on top-level '|'; ok is false when the group
// closes before the end (the pattern is not one group).
func splitAlternation(s string) ([]string, bool) {
	var out []string
	depth, class, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case class:
			if c == ']' {
				class = false
			}
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, false
			}
		case c == '|' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:]), depth == 0
}

// seedCmdCond applies a seed command regex to each program the shell
// parser found, rendered as "wrappers name args redirects". Arguments
// holding spaces are data (a grep pattern, a commit message, an echoed
// sentence) and are left out, as are redirections to pseudo devices such
// as /dev/null, so "grep 'rm -rf'" and "2>/dev/null" do not match.
type seedCmdCond struct{ re *lazyRe }

func (sc *seedCmdCond) eval(c *evalCtx) bool {
	for i := range c.f.progs {
		if c.f.reArg(sc.re, renderProg(&c.f.progs[i])) {
			c.prog, c.via = i, "program"
			return true
		}
	}
	return false
}

func renderProg(p *prog) string {
	var b strings.Builder
	for _, w := range p.wrappers {
		b.WriteString(w)
		b.WriteByte(' ')
	}
	if p.name != "" {
		b.WriteString(p.name)
	} else {
		b.WriteString(p.path)
	}
	if shells[p.name] && flagValue(p.args, "-c", "") != "" {
		return b.String() // the body is parsed into its own programs
	}
	for _, a := range p.args {
		if strings.ContainsAny(a, " \t\n") {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(a)
	}
	for _, r := range p.redirects {
		if pseudoDevice(r.Target) || r.Op == "<<" || r.Op == "<<-" || r.Op == "<<<" {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(r.Op)
		b.WriteString(r.Target)
	}
	return b.String()
}

func pseudoDevice(t string) bool {
	switch t {
	case "/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty", "/dev/zero", "/dev/random", "/dev/urandom":
		return true
	}
	return strings.HasPrefix(t, "/dev/fd/") || strings.HasPrefix(t, "&") || (len(t) > 0 && t[0] >= '0' && t[0] <= '9')
}
