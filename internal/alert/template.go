package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"time"
)

// seedPlaceholder matches the seed's {alert_id}-style placeholders.
// Compiled on first use: every vigil process (the hook too) would pay at start.
var seedPlaceholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{([a-z_]+)\}`) })

// seedFields maps the seed's placeholders to template expressions over a
// Notification. JSON-escaped variants are used in JSON bodies.
var seedFields = map[string][2]string{
	"alert_id":    {"{{.Alert.ID}}", "{{jsonstr .Alert.ID}}"},
	"id":          {"{{.Alert.ID}}", "{{jsonstr .Alert.ID}}"},
	"severity":    {"{{.Severity}}", "{{jsonstr .Severity.String}}"},
	"description": {"{{.Description}}", "{{jsonstr .Description}}"},
	"title":       {"{{.Title}}", "{{jsonstr .Title}}"},
	"summary":     {"{{.Alert.Summary}}", "{{jsonstr .Alert.Summary}}"},
	"timestamp":   {"{{rfc3339 .Time}}", "{{rfc3339 .Time}}"},
	"category":    {"{{.Alert.Category}}", "{{jsonstr .Alert.Category}}"},
	"session_id":  {"{{.Alert.SessionID}}", "{{jsonstr .Alert.SessionID}}"},
	"project":     {"{{.Alert.Project}}", "{{jsonstr .Alert.Project}}"},
	"host":        {"{{.Alert.Host}}", "{{jsonstr .Alert.Host}}"},
	"rule":        {"{{.Alert.Rule}}", "{{jsonstr .Alert.Rule}}"},
	"rule_name":   {"{{.Alert.Rule}}", "{{jsonstr .Alert.Rule}}"},
	"count":       {"{{.Alert.Count}}", "{{.Alert.Count}}"},
	"kind":        {"{{.Kind}}", "{{jsonstr .Kind}}"},
	"context":     {"{{json .Alert.Context}}", "{{json .Alert.Context}}"},
	"tags":        {`{{join .Alert.Tags ", "}}`, "{{json .Alert.Tags}}"},
}

var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		if m, ok := v.(map[string]string); ok && m == nil {
			return "{}", nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	},
	// jsonstr is a JSON string's content without the quotes, for
	// templates that already have them: "x": "{{jsonstr .Title}}".
	"jsonstr": func(v any) (string, error) {
		b, err := json.Marshal(fmt.Sprint(v))
		if err != nil {
			return "", err
		}
		return string(b[1 : len(b)-1]), nil
	},
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"join":    strings.Join,
	"upper":   strings.ToUpper,
	"lower":   strings.ToLower,
}

// ParseTemplate compiles a channel template. text is a Go text/template
// over a Notification ({{.Title}}, {{.Severity}}, {{.Alert.Rule}},
// {{.Alert.Count}}, {{json .Alert}}, ...). A template without "{{" may
// use the seed's placeholders instead ({alert_id}, {severity},
// {description}, {timestamp}, {category}, {session_id}, {context}, ...);
// with jsonBody their values are JSON-escaped, since the seed put them
// inside JSON strings. An unknown placeholder is an error.
func ParseTemplate(name, text string, jsonBody bool) (*template.Template, error) {
	if !strings.Contains(text, "{{") {
		var bad []string
		text = seedPlaceholder().ReplaceAllStringFunc(text, func(m string) string {
			f, ok := seedFields[m[1:len(m)-1]]
			if !ok {
				bad = append(bad, m)
				return m
			}
			if jsonBody {
				return f[1]
			}
			return f[0]
		})
		if len(bad) > 0 {
			return nil, fmt.Errorf("template %s: unknown placeholder %s", name, strings.Join(bad, ", "))
		}
	}
	t, err := template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return t, nil
}

// Render executes t for n.
func Render(t *template.Template, n Notification) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, n); err != nil {
		return nil, fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return b.Bytes(), nil
}
