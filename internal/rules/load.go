package rules

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// loader compiles one rule file, collecting every error.
type loader struct {
	file   string
	errs   LoadErrors
	lists  map[string][]string
	macros map[string]*macroCond
	mnodes map[string]*yaml.Node
	// eager compiles regular expressions now (user files) instead of on
	// first use (the embedded default set, which tests validate).
	eager bool
	// building guards against macros that use themselves.
	building map[string]bool
	// lazy defers compiling conditions to first use (see Rule.ensure).
	lazy bool
	mu   sync.Mutex
	// full materialises a node whose content was left unparsed.
	full func(*yaml.Node) *yaml.Node
	// listMatchers caches the matcher of a whole-list reference ("@name"),
	// which many rules share (credential_paths, shells, ...). Guarded like
	// every build by mu (or single-threaded at load).
	listMatchers map[string]*strMatcher
}

func (l *loader) errAt(n *yaml.Node, field, value, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, &LoadError{File: l.file, Line: line, Field: field, Value: value, Msg: fmt.Sprintf(format, args...)})
}

var (
	tagRe = lazyRE(`^(T[0-9]{4}(\.[0-9]{3})?|TA[0-9]{4})$`)
)

// parseFile parses data as a rule file, native or seed format.
func parseFile(file string, data []byte, eager bool) ([]*Rule, *SeedFile, LoadErrors) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line := 0
		msg := err.Error()
		if _, err2 := fmt.Sscanf(msg, "yaml: line %d:", &line); err2 == nil {
			msg = strings.TrimSpace(msg[strings.Index(msg[5:], ":")+6:])
		}
		return nil, nil, LoadErrors{{File: file, Line: line, Msg: "not valid YAML: " + msg}}
	}
	if len(doc.Content) == 0 {
		return nil, nil, nil
	}
	return parseRoot(file, doc.Content[0], eager, false, nil)
}

// parseRoot compiles a parsed rule file. lazy defers compiling conditions
// (only for the embedded, tested default set).
func parseRoot(file string, root *yaml.Node, eager, lazy bool, full func(*yaml.Node) *yaml.Node) ([]*Rule, *SeedFile, LoadErrors) {
	if full == nil {
		full = func(n *yaml.Node) *yaml.Node { return n }
	}
	l := &loader{file: file, lists: map[string][]string{}, macros: map[string]*macroCond{}, mnodes: map[string]*yaml.Node{}, eager: eager, building: map[string]bool{}, lazy: lazy, full: full}
	if root.Kind != yaml.MappingNode {
		l.errAt(root, "", "", "a rule file must be a mapping with a rules key")
		return nil, nil, l.errs
	}
	if isSeed(root) {
		rs, seed := l.seed(root)
		return rs, seed, l.errs
	}
	return l.native(root), nil, l.errs
}

// isSeed tells the seed's security-rules.yaml (rules is a mapping of named
// rules) from a native file (rules is a list).
func isSeed(root *yaml.Node) bool {
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, root.Content[i+1]
		if k == "rules" && v.Kind == yaml.MappingNode {
			return true
		}
		if k == "settings" || k == "notifications" || k == "deduplication" {
			return true
		}
	}
	return false
}

// pairs iterates a mapping, reporting unknown keys. known maps key to a
// handler.
func (l *loader) pairs(n *yaml.Node, field string, known map[string]func(v *yaml.Node)) {
	l.each(n, field, func(k string, v *yaml.Node) bool {
		h, ok := known[k]
		if ok {
			h(v)
		}
		return ok
	})
}

// each calls handle for every key of mapping n, reporting duplicate keys
// and the keys handle does not know (it returns false). It is pairs
// without building a map of handlers: the hot paths of compiling rules.
func (l *loader) each(n *yaml.Node, field string, handle func(k string, v *yaml.Node) bool) {
	if n.Kind != yaml.MappingNode {
		l.errAt(n, field, n.Value, "must be a mapping")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		dup := false
		for j := 0; j < i; j += 2 {
			if n.Content[j].Value == k.Value {
				dup = true
				break
			}
		}
		if dup {
			l.errAt(k, join(field, k.Value), "", "duplicate key")
			continue
		}
		if !handle(k.Value, v) {
			l.errAt(k, join(field, k.Value), k.Value, "unknown field")
		}
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func (l *loader) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode {
		l.errAt(n, field, "", "must be a string")
		return ""
	}
	return n.Value
}

func (l *loader) boolean(n *yaml.Node, field string) bool {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			return true
		case "false", "no", "off":
			return false
		}
	}
	l.errAt(n, field, n.Value, "must be true or false")
	return false
}

func (l *loader) integer(n *yaml.Node, field string, min int) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		l.errAt(n, field, n.Value, "must be an integer")
		return 0
	}
	if v < min {
		l.errAt(n, field, n.Value, "must be at least %d", min)
	}
	return v
}

func (l *loader) duration(n *yaml.Node, field string) time.Duration {
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d <= 0 {
		l.errAt(n, field, n.Value, "must be a positive duration such as 30s, 5m or 24h")
		return 0
	}
	return d
}

// strs reads a string or a list of strings; "@name" splices a named list.
func (l *loader) strs(n *yaml.Node, field string) []string {
	var raw []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		raw = []*yaml.Node{n}
	case yaml.SequenceNode:
		raw = n.Content
	default:
		l.errAt(n, field, "", "must be a string or a list of strings")
		return nil
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if v.Kind != yaml.ScalarNode {
			l.errAt(v, field, "", "list items must be strings")
			continue
		}
		if strings.HasPrefix(v.Value, "@") {
			name := v.Value[1:]
			lst, ok := l.lists[name]
			if !ok {
				l.errAt(v, field, v.Value, "unknown list")
				continue
			}
			out = append(out, lst...)
			continue
		}
		out = append(out, v.Value)
	}
	return out
}

func (l *loader) matcher(n *yaml.Node, field string, fold bool) *strMatcher {
	key := ""
	if n != nil && n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, "@") {
		key = n.Value
		if fold {
			key += "\x00fold"
		}
		if m, ok := l.listMatchers[key]; ok {
			return m
		}
	}
	vals := l.strs(n, field)
	for _, v := range vals {
		if !validGlob(v) {
			l.errAt(n, field, v, "bad glob pattern")
		}
	}
	m := newStrMatcher(vals, fold)
	if key != "" && len(l.errs) == 0 {
		if l.listMatchers == nil {
			l.listMatchers = map[string]*strMatcher{}
		}
		l.listMatchers[key] = m
	}
	return m
}

func (l *loader) regex(n *yaml.Node, field string) *lazyRe {
	src := l.str(n, field)
	if l.eager {
		if _, err := regexp.Compile(src); err != nil {
			l.errAt(n, field, src, "bad regular expression: %v", err)
			return nil
		}
	}
	return &lazyRe{src: src}
}

func (l *loader) severity(n *yaml.Node, field string) Severity {
	s, err := ParseSeverity(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		l.errAt(n, field, n.Value, "must be LOW, MEDIUM, HIGH or CRITICAL")
		return 0
	}
	return s
}

// native compiles a native rule file: lists, macros, rules.
func (l *loader) native(root *yaml.Node) []*Rule {
	var rulesNode *yaml.Node
	// Lists first, then macros, so rules may use both in any order.
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "lists":
			l.each(v, "lists", func(string, *yaml.Node) bool { return true })
			if v.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(v.Content); j += 2 {
					name := v.Content[j].Value
					l.lists[name] = l.strs(v.Content[j+1], "lists."+name)
				}
			}
		case "macros":
			if v.Kind != yaml.MappingNode {
				l.errAt(v, "macros", "", "must be a mapping of name: condition")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				name := v.Content[j].Value
				l.macros[name] = &macroCond{}
				l.mnodes[name] = v.Content[j+1]
			}
		case "rules":
			rulesNode = v
		default:
			l.errAt(k, k.Value, k.Value, "unknown field (want lists, macros, rules)")
		}
	}
	if !l.lazy {
		for name, n := range l.mnodes {
			l.buildMacro(name, n)
		}
	}
	if rulesNode == nil {
		return nil
	}
	if rulesNode.Kind != yaml.SequenceNode {
		l.errAt(rulesNode, "rules", "", "must be a list of rules")
		return nil
	}
	var out []*Rule
	ids := map[string]int{}
	for i, rn := range rulesNode.Content {
		r := l.rule(rn, fmt.Sprintf("rules[%d]", i))
		if r == nil {
			continue
		}
		if prev, ok := ids[r.ID]; ok {
			l.errAt(rn, fmt.Sprintf("rules[%d].id", i), r.ID, "duplicate rule id (first defined at line %d)", prev)
			continue
		}
		ids[r.ID] = rn.Line
		out = append(out, r)
	}
	return out
}

func (l *loader) buildMacro(name string, n *yaml.Node) {
	m := l.macros[name]
	if m.c != nil || l.building[name] {
		return
	}
	l.building[name] = true
	m.c = l.cond(n, "macros."+name)
	l.building[name] = false
}

// rule compiles one native rule.
func (l *loader) rule(n *yaml.Node, field string) *Rule {
	r := &Rule{Action: ActionAlert, Enabled: true, Kind: kindPlain, Response: Response{ImmediateAlert: true}, Source: l.file + ":" + strconv.Itoa(n.Line)}
	var condNode, thrNode, seqNode, derNode *yaml.Node
	var excNodes []*yaml.Node
	// A switch rather than pairs: this runs for every rule on every hook start.
	if n.Kind != yaml.MappingNode {
		l.errAt(n, field, n.Value, "must be a mapping")
		return nil
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			l.errAt(k, field+"."+k.Value, "", "duplicate key")
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "id":
			r.ID = l.str(v, field+".id")
		case "description":
			r.Description = l.str(v, field+".description")
		case "severity":
			r.Severity = l.severity(v, field+".severity")
		case "category":
			r.Category = l.str(v, field+".category")
		case "tags":
			r.Tags = l.tags(v, field+".tags")
		case "condition":
			condNode = v
		case "exceptions":
			v = l.full(v)
			if v.Kind != yaml.SequenceNode {
				l.errAt(v, field+".exceptions", "", "must be a list of conditions")
				continue
			}
			excNodes = v.Content
		case "action":
			r.Action = l.str(v, field+".action")
			if r.Action != ActionAlert && r.Action != ActionBlock && r.Action != ActionAsk {
				l.errAt(v, field+".action", r.Action, "must be alert, block or ask")
			}
		case "enabled":
			r.Enabled = l.boolean(v, field+".enabled")
		case "response":
			r.Response = l.response(v, field+".response")
		case "threshold":
			thrNode = v
		case "sequence":
			seqNode = v
		case "derived":
			derNode = v
		case "context_fields":
			r.ContextFields = l.strs(v, field+".context_fields")
		case "inherit_content":
			if v.Value == "true" {
				r.InheritContent = Critical
				continue
			}
			r.InheritContent = l.severity(v, field+".inherit_content")
		default:
			l.errAt(k, field+"."+k.Value, k.Value, "unknown field")
		}
	}
	if r.ID == "" {
		l.errAt(n, field+".id", "", "is required")
	} else if !validID(r.ID) {
		l.errAt(n, field+".id", r.ID, "must be letters, digits, '.', '_' or '-'")
	}
	if r.Severity == 0 {
		if !hasKey(n, "severity") {
			l.errAt(n, field+".severity", "", "is required")
		}
	}
	if r.Category == "" {
		l.errAt(n, field+".category", "", "is required")
	} else if !validCategory(r.Category) {
		l.errAt(n, field+".category", r.Category, "must be a lower_snake_case word")
	}
	kinds := 0
	for _, x := range []*yaml.Node{seqNode, thrNode, derNode} {
		if x != nil {
			kinds++
		}
	}
	if kinds > 1 {
		l.errAt(n, field, "", "use only one of threshold, sequence, derived")
	}
	switch {
	case thrNode != nil:
		r.Kind = kindThreshold
	case seqNode != nil:
		r.Kind = kindSequence
		if condNode != nil {
			l.errAt(condNode, field+".condition", "", "a sequence rule puts its conditions in sequence.steps")
		}
	case derNode != nil:
		r.Kind = kindDerived
	default:
		if condNode == nil {
			l.errAt(n, field+".condition", "", "is required (or threshold, sequence, derived)")
		}
	}
	build := func() {
		for _, p := range []**yaml.Node{&condNode, &thrNode, &seqNode, &derNode} {
			if *p != nil {
				*p = l.full(*p)
			}
		}
		if excNodes != nil {
			excNodes = l.full(&yaml.Node{Kind: yaml.SequenceNode, Content: excNodes}).Content
		}
		if condNode != nil {
			r.cond = l.cond(condNode, field+".condition")
		}
		for i, e := range excNodes {
			if c := l.cond(e, fmt.Sprintf("%s.exceptions[%d]", field, i)); c != nil {
				r.exceptions = append(r.exceptions, c)
			}
		}
		switch r.Kind {
		case kindThreshold:
			r.threshold = l.thresholdSpec(thrNode, field+".threshold")
		case kindSequence:
			r.seq = l.seqSpec(seqNode, field+".sequence")
		case kindDerived:
			r.derived = l.derivedSpec(derNode, field+".derived")
		}
		if r.cond == nil {
			r.cond = trueCond{}
		}
	}
	if l.lazy {
		// The embedded set compiles each rule's conditions on first use:
		// the hook's Decide touches only the block and ask rules.
		r.build = func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			build()
		}
	} else {
		build()
	}
	return r
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// validID reports an id of letters, digits, '_', '.' and '-' starting
// with a letter or digit (checked on every start, so no regexp).
func validID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return s != ""
}

// validCategory reports lower_snake_case starting with a letter.
func validCategory(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '_')
		if !ok {
			return false
		}
	}
	return s != ""
}

func (l *loader) tags(v *yaml.Node, field string) []string {
	tags := l.strs(v, field)
	for _, t := range tags {
		if !tagRe().MatchString(t) {
			l.errAt(v, field, t, "must be a MITRE ATT&CK id such as T1552.004 or TA0005")
		}
	}
	return tags
}

func (l *loader) response(v *yaml.Node, field string) Response {
	// A response block that does not mention immediate_alert keeps the
	// default (alert at once); only an explicit false turns it off.
	r := Response{ImmediateAlert: true}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"cooldown_minutes": func(v *yaml.Node) { r.CooldownMinutes = l.integer(v, field+".cooldown_minutes", 0) },
		"escalate_after":   func(v *yaml.Node) { r.EscalateAfter = l.integer(v, field+".escalate_after", 0) },
		"immediate_alert":  func(v *yaml.Node) { r.ImmediateAlert = l.boolean(v, field+".immediate_alert") },
	})
	return r
}

func (l *loader) thresholdSpec(v *yaml.Node, field string) *thresholdSpec {
	t := &thresholdSpec{}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"count":  func(v *yaml.Node) { t.Count = l.integer(v, field+".count", 1) },
		"window": func(v *yaml.Node) { t.Window = l.duration(v, field+".window") },
	})
	if !hasKey(v, "count") {
		l.errAt(v, field+".count", "", "is required")
	}
	if t.Count > maxThreshold {
		l.errAt(v, field+".count", strconv.Itoa(t.Count), "must be at most %d", maxThreshold)
	}
	if !hasKey(v, "window") {
		l.errAt(v, field+".window", "", "is required")
	}
	return t
}

func (l *loader) seqSpec(v *yaml.Node, field string) *seqSpec {
	s := &seqSpec{}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"within": func(v *yaml.Node) { s.Window = l.duration(v, field+".within") },
		"steps": func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode || len(v.Content) < 2 {
				l.errAt(v, field+".steps", "", "must be a list of at least two conditions")
				return
			}
			if len(v.Content) > 8 {
				l.errAt(v, field+".steps", "", "at most 8 steps")
			}
			for i, st := range v.Content {
				if c := l.cond(st, fmt.Sprintf("%s.steps[%d]", field, i)); c != nil {
					s.Steps = append(s.Steps, c)
				}
			}
		},
		"link": func(v *yaml.Node) {
			switch l.str(v, field+".link") {
			case "written_file":
				s.Link = true
			case "", "none":
			default:
				l.errAt(v, field+".link", v.Value, "must be written_file or none")
			}
		},
		"inherit_findings": func(v *yaml.Node) { s.Inherit = l.boolean(v, field+".inherit_findings") },
	})
	if s.Window == 0 {
		s.Window = 24 * time.Hour
	}
	return s
}

func (l *loader) derivedSpec(v *yaml.Node, field string) *derivedSpec {
	d := &derivedSpec{MinSeverity: High, Signals: map[string]bool{}, CategoriesNot: map[string]bool{}}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"min_severity": func(v *yaml.Node) { d.MinSeverity = l.severity(v, field+".min_severity") },
		"signals": func(v *yaml.Node) {
			for _, s := range l.strs(v, field+".signals") {
				if !knownSignals[s] {
					l.errAt(v, field+".signals", s, "unknown signal")
				}
				d.Signals[s] = true
			}
		},
		"categories_not": func(v *yaml.Node) {
			for _, s := range l.strs(v, field+".categories_not") {
				d.CategoriesNot[s] = true
			}
		},
	})
	if len(d.Signals) == 0 {
		l.errAt(v, field+".signals", "", "is required")
	}
	return d
}

// flagConds are the conditions written as "key: true".
var flagConds = map[string]cond{
	"downloads_and_runs":   fetchRunCond{},
	"host_named_by_user":   userHostCond{},
	"drops_only_throwaway": throwawayDropCond{},
}

// scalarFields maps a condition key to the event field it matches.
var scalarFields = map[string]string{"tool": "tool_name", "event_type": "event_type", "hook_event": "hook_event",
	"permission_mode": "permission_mode", "agent_type": "agent_type"}

// cond compiles a condition mapping; its keys are ANDed.
func (l *loader) cond(n *yaml.Node, field string) cond {
	if n.Kind != yaml.MappingNode {
		l.errAt(n, field, n.Value, "a condition must be a mapping")
		return nil
	}
	var parts allCond
	errsBefore := len(l.errs)
	add := func(c cond) {
		if c != nil {
			parts = append(parts, c)
		}
	}
	list := func(v *yaml.Node, f string) []cond {
		if v.Kind != yaml.SequenceNode {
			l.errAt(v, f, "", "must be a list of conditions")
			return nil
		}
		var cs []cond
		for i, e := range v.Content {
			if c := l.cond(e, fmt.Sprintf("%s[%d]", f, i)); c != nil {
				cs = append(cs, c)
			}
		}
		return cs
	}
	l.each(n, field, func(k string, v *yaml.Node) bool {
		switch k {
		case "all":
			add(allCond(list(v, field+".all")))
		case "any":
			add(anyCond(list(v, field+".any")))
		case "not":
			if c := l.cond(v, field+".not"); c != nil {
				add(notCond{c})
			}
		case "macro":
			for _, name := range l.strs(v, field+".macro") {
				m, ok := l.macros[name]
				if !ok {
					l.errAt(v, field+".macro", name, "unknown macro")
					continue
				}
				if l.building[name] {
					l.errAt(v, field+".macro", name, "macro refers to itself")
					continue
				}
				l.buildMacro(name, l.mnodes[name])
				add(m)
			}
		case "tool", "event_type", "hook_event", "permission_mode", "agent_type":
			name := scalarFields[k]
			g, _ := lookupField(name)
			add(&fieldCond{name: name, get: g, m: l.matcher(v, join(field, name), false)})
		case "field":
			if v.Kind != yaml.MappingNode {
				l.errAt(v, field+".field", "", "must map field names to matchers")
				return true
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				add(l.fieldCond(v.Content[i], v.Content[i+1], field+".field"))
			}
		case "command":
			add(l.cmdCond(v, field+".command"))
		case "pipe":
			add(l.pipeCond(v, field+".pipe"))
		case "path":
			add(l.pathCond(v, field+".path"))
		case "redirect":
			add(l.redirCond(v, field+".redirect"))
		case "code", "decoded":
			if re := l.regex(v, field+"."+k); re != nil {
				add(&textCond{decoded: k == "decoded", re: re})
			}
		case "matched":
			add(l.matchedCond(v, field+".matched"))
		case "assign":
			if re := l.regex(v, field+".assign"); re != nil {
				add(&assignCond{re: re})
			}
		case "downloads_and_runs", "host_named_by_user", "drops_only_throwaway":
			if l.boolean(v, field+"."+k) {
				add(flagConds[k])
			}
		case "user_said":
			if re := l.regex(v, field+".user_said"); re != nil {
				add(&userSaidCond{re: re})
			}
		case "content":
			add(l.contentCond(v, field+".content"))
		default:
			return false
		}
		return true
	})
	switch len(parts) {
	case 0:
		if len(l.errs) == errsBefore {
			l.errAt(n, field, "", "empty condition")
		}
		return nil
	case 1:
		return parts[0]
	}
	return parts
}

func (l *loader) fieldCond(k, v *yaml.Node, field string) cond {
	name := k.Value
	f := join(field, name)
	g, ok := lookupField(name)
	if !ok {
		l.errAt(k, f, name, "unknown event field")
		return nil
	}
	fc := &fieldCond{name: name, get: g}
	if v.Kind != yaml.MappingNode {
		fc.m = l.matcher(v, f, false)
		return fc
	}
	var exact, globs []string
	var re *lazyRe
	l.pairs(v, f, map[string]func(v *yaml.Node){
		"eq":        func(v *yaml.Node) { exact = append(exact, l.str(v, f+".eq")) },
		"in":        func(v *yaml.Node) { exact = append(exact, l.strs(v, f+".in")...) },
		"glob":      func(v *yaml.Node) { globs = append(globs, l.strs(v, f+".glob")...) },
		"regex":     func(v *yaml.Node) { re = l.regex(v, f+".regex") },
		"contains":  func(v *yaml.Node) { fc.contains = l.strs(v, f+".contains") },
		"exists":    func(v *yaml.Node) { b := l.boolean(v, f+".exists"); fc.exists = &b },
		"not_empty": func(v *yaml.Node) { b := l.boolean(v, f+".not_empty"); fc.nonEmpty = &b },
	})
	if len(exact)+len(globs) > 0 || re != nil {
		m := &strMatcher{exact: map[string]bool{}, re: re}
		for _, g := range globs {
			m.globs = append(m.globs, compileGlob(g))
		}
		for _, e := range exact {
			m.exact[e] = true
		}
		fc.m = m
	}
	return fc
}

func (l *loader) cmdSpec(v *yaml.Node, field string) *cmdCond {
	cc := &cmdCond{maxDepth: -1}
	if v.Kind != yaml.MappingNode {
		cc.name = l.matcher(v, field, true)
		return cc
	}
	l.each(v, field, func(k string, v *yaml.Node) bool {
		f := field + "." + k
		b := func() *bool { x := l.boolean(v, f); return &x }
		switch k {
		case "name":
			cc.name = l.matcher(v, f, true)
		case "name_not":
			cc.nameNot = l.matcher(v, f, true)
		case "subcommand":
			cc.sub = l.matcher(v, f, false)
		case "args_any":
			cc.argsAny = l.matcher(v, f, false)
		case "args_none":
			cc.argsNone = l.matcher(v, f, false)
		case "args_all":
			for _, s := range l.strs(v, f) {
				cc.argsAll = append(cc.argsAll, newStrMatcher([]string{s}, false))
			}
		case "flags":
			for _, s := range l.strs(v, f) {
				cc.flags = append(cc.flags, strings.Split(s, "|"))
			}
		case "arg_path":
			cc.argPath = l.matcher(v, f, false)
		case "arg_path_outside_project":
			cc.argPathOutside = l.boolean(v, f)
		case "arg_regex":
			cc.argRe = l.regex(v, f)
		case "args_regex":
			cc.argsRe = l.regex(v, f)
		case "wrapper":
			cc.wrapper = l.matcher(v, f, false)
		case "dynamic":
			cc.dynamic = b()
		case "decoded":
			cc.decoded = b()
		case "env_prefix":
			cc.env = b()
		case "external_host":
			cc.externalHost = b()
		case "local_host_only":
			cc.localOnly = b()
		case "redirect":
			cc.redirect = l.redirCond(v, f)
		case "min_depth":
			cc.minDepth = l.integer(v, f, 0)
		case "max_depth":
			cc.maxDepth = l.integer(v, f, 0)
		case "arg_path_wide":
			cc.argPathWide = l.boolean(v, f)
		case "arg_path_covers_project":
			cc.argPathCovers = l.boolean(v, f)
		case "arg_path_above_project":
			cc.argPathAbove = l.boolean(v, f)
		case "stdin_piped":
			cc.stdinPiped = b()
		default:
			return false
		}
		return true
	})
	return cc
}

func (l *loader) cmdCond(v *yaml.Node, field string) cond { return l.cmdSpec(v, field) }

func (l *loader) pipeCond(v *yaml.Node, field string) cond {
	pc := &pipeCond{}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"from": func(v *yaml.Node) { pc.from = l.cmdSpec(v, field+".from") },
		"to":   func(v *yaml.Node) { pc.to = l.cmdSpec(v, field+".to") },
	})
	if pc.from == nil || pc.to == nil {
		l.errAt(v, field, "", "needs from and to")
		return nil
	}
	return pc
}

func (l *loader) pathCond(v *yaml.Node, field string) cond {
	pc := &pathCond{access: "any", shell: true, tool: true}
	if v.Kind != yaml.MappingNode {
		pc.m = l.matcher(v, field, false)
		return pc
	}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"glob":    func(v *yaml.Node) { pc.m = l.matcher(v, field+".glob", false) },
		"exclude": func(v *yaml.Node) { pc.exclude = l.matcher(v, field+".exclude", false) },
		"access": func(v *yaml.Node) {
			pc.access = l.str(v, field+".access")
			if pc.access != "read" && pc.access != "write" && pc.access != "any" {
				l.errAt(v, field+".access", pc.access, "must be read, write or any")
			}
		},
		"outside_project": func(v *yaml.Node) { pc.outside = l.boolean(v, field+".outside_project") },
		"user_named": func(v *yaml.Node) {
			if l.boolean(v, field+".user_named") {
				l.errAt(v, field+".user_named", v.Value, "only false is supported: leave out paths the user named")
			}
			pc.notUserNamed = true
		},
		"source": func(v *yaml.Node) {
			switch s := l.str(v, field+".source"); s {
			case "tool":
				pc.shell = false
			case "shell":
				pc.tool = false
			case "any":
			default:
				l.errAt(v, field+".source", s, "must be tool, shell or any")
			}
		},
	})
	return pc
}

func (l *loader) redirCond(v *yaml.Node, field string) *redirCond {
	rc := &redirCond{}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"op":     func(v *yaml.Node) { rc.op = l.matcher(v, field+".op", false) },
		"target": func(v *yaml.Node) { rc.target = l.matcher(v, field+".target", false) },
	})
	return rc
}

func (l *loader) matchedCond(v *yaml.Node, field string) cond {
	mc := &matchedCond{minSev: Low}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"category":     func(v *yaml.Node) { mc.cats = l.matcher(v, field+".category", false) },
		"rule":         func(v *yaml.Node) { mc.rules = l.matcher(v, field+".rule", false) },
		"tag":          func(v *yaml.Node) { mc.tags = l.matcher(v, field+".tag", false) },
		"min_severity": func(v *yaml.Node) { mc.minSev = l.severity(v, field+".min_severity") },
	})
	return mc
}

func (l *loader) contentCond(v *yaml.Node, field string) cond {
	cc := &contentCond{}
	l.pairs(v, field, map[string]func(v *yaml.Node){
		"tag":          func(v *yaml.Node) { cc.tags = l.matcher(v, field+".tag", false) },
		"category":     func(v *yaml.Node) { cc.cats = l.matcher(v, field+".category", false) },
		"min_severity": func(v *yaml.Node) { cc.minSev = l.severity(v, field+".min_severity") },
	})
	return cc
}
