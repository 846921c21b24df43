package rules

import (
	_ "embed" // the generated rule sets, as strings
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The embedded default set is also stored as JSON (defaults/default.json,
// generated from default.yaml by `go test -run TestDefaultJSON -update`
// and checked to be current by that test): decoding JSON is several times
// faster than parsing YAML, and the hook loads the rules on every start.
// Every scalar is a JSON string and every mapping carries its YAML line
// under "@line", so rules keep their source line.

const lineKey = "@line"

// The generated JSON files: the whole default set, and the subset whose
// rules can block or ask (every list and macro, only the deciding rules)
// that the hook loads in enforce mode.
const (
	defaultJSON  = "default.json"
	decidersJSON = "deciders.json"
)

// loadCompiledDefaults decodes the JSON form of the default set (name is
// defaultJSON or decidersJSON), with conditions compiled on first use.
func loadCompiledDefaults(name string) ([]*Rule, LoadErrors) {
	text := defaultJSONText
	if name == decidersJSON {
		text = decidersJSONText
	}
	p := &jsonNodes{b: text, raw: map[*yaml.Node]string{}}
	root, err := p.value(0)
	if err != nil {
		return nil, LoadErrors{{File: "builtin:" + name, Msg: err.Error()}}
	}
	rs, _, errs := parseRoot("builtin:default.yaml", root, false, true, func(n *yaml.Node) *yaml.Node {
		raw, ok := p.raw[n]
		if !ok {
			return n
		}
		// Its own parser: rules may compile concurrently.
		q := &jsonNodes{b: raw}
		q.slab = make([]yaml.Node, 0, nodesIn(raw))
		full, err := q.value(-1 << 20)
		if err != nil {
			return n
		}
		return full
	})
	return rs, errs
}

// The generated files are embedded as strings: every scalar the parser
// returns is a substring of them, not a copy.
var (
	//go:embed defaults/default.json
	defaultJSONText string
	//go:embed defaults/deciders.json
	decidersJSONText string
)

// jsonNodes parses the generated JSON (strings, null, arrays, objects)
// straight into yaml.Nodes, without the maps and interfaces of
// encoding/json: this is the hook's start-up path.
type jsonNodes struct {
	b string
	i int
	// raw holds the text of rule conditions left unparsed until the rule
	// is first used (see deferredKeys).
	raw map[*yaml.Node]string
	// slab hands out nodes from a few large allocations instead of one
	// each (a rule set is a few thousand nodes).
	slab []yaml.Node
}

// nodesIn bounds the number of nodes parsing s makes: one per string,
// array and object at most.
func nodesIn(s string) int {
	return strings.Count(s, `"`)/2 + strings.Count(s, "[") + strings.Count(s, "{")
}

func (p *jsonNodes) node(kind yaml.Kind, tag, value string) *yaml.Node {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]yaml.Node, 0, 256)
	}
	p.slab = append(p.slab, yaml.Node{Kind: kind, Tag: tag, Value: value})
	return &p.slab[len(p.slab)-1]
}

// deferredKeys are the parts of a rule (an object at depth 2) parsed only
// when the rule compiles.
var deferredKeys = map[string]bool{"condition": true, "exceptions": true, "sequence": true, "threshold": true, "derived": true}

// skipValue moves past one JSON value without building it.
func (p *jsonNodes) skipValue() error {
	p.skip()
	depth := 0
	for p.i < len(p.b) {
		switch c := p.b[p.i]; c {
		case '"':
			if _, err := p.str(); err != nil {
				return err
			}
			if depth == 0 {
				return nil
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				p.i++
				return nil
			}
		case 'n':
			if depth == 0 {
				p.i += 4
				return nil
			}
		}
		p.i++
	}
	return p.errorf("unexpected end")
}

func (p *jsonNodes) skip() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonNodes) errorf(format string, a ...any) error {
	return fmt.Errorf("default.json offset %d: "+format, append([]any{p.i}, a...)...)
}

func (p *jsonNodes) str() (string, error) {
	start := p.i + 1
	esc := false
	for j := start; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			p.i = j + 1
			if !esc {
				return p.b[start:j], nil
			}
			var s string
			if err := json.Unmarshal([]byte(p.b[start-1:j+1]), &s); err != nil {
				return "", err
			}
			return s, nil
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonNodes) value(depth int) (*yaml.Node, error) {
	p.skip()
	if p.i >= len(p.b) {
		return nil, p.errorf("unexpected end")
	}
	switch p.b[p.i] {
	case '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.node(yaml.ScalarNode, "!!str", s), nil
	case 'n':
		if !strings.HasPrefix(p.b[p.i:], "null") {
			return nil, p.errorf("bad literal")
		}
		p.i += 4
		return p.node(yaml.ScalarNode, "!!null", ""), nil
	case '[':
		p.i++
		n := p.node(yaml.SequenceNode, "", "")
		for {
			p.skip()
			if p.i < len(p.b) && p.b[p.i] == ']' {
				p.i++
				return n, nil
			}
			c, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
			p.skip()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
			}
		}
	case '{':
		p.i++
		n := p.node(yaml.MappingNode, "", "")
		for {
			p.skip()
			if p.i < len(p.b) && p.b[p.i] == '}' {
				p.i++
				for _, c := range n.Content {
					if c.Line == 0 {
						c.Line = n.Line
					}
				}
				return n, nil
			}
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, p.errorf("want a key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skip()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, p.errorf("want ':'")
			}
			p.i++
			var v *yaml.Node
			switch {
			case k == lineKey:
				p.skip()
				line, err := p.str()
				if err != nil {
					return nil, err
				}
				n.Line, _ = strconv.Atoi(line)
			case depth == 2 && p.raw != nil && deferredKeys[k]:
				p.skip()
				start := p.i
				if err := p.skipValue(); err != nil {
					return nil, err
				}
				v = p.node(yaml.MappingNode, "", "")
				p.raw[v] = p.b[start:p.i]
			default:
				if v, err = p.value(depth + 1); err != nil {
					return nil, err
				}
			}
			if v != nil {
				n.Content = append(n.Content, p.node(yaml.ScalarNode, "!!str", k), v)
			}
			p.skip()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
			}
		}
	}
	return nil, p.errorf("unexpected %q", p.b[p.i])
}
