package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting in JSON; deeper documents are redacted as text.
const maxJSONDepth = 512

// JSON redacts every string value inside an arbitrary JSON document (MCP and
// unknown tool inputs), and replaces the whole value of any member whose key
// names a secret ("api_key": 123, "password": "x"). Key order and numbers
// are kept; the output is compact. Input that is not valid JSON is redacted
// as text.
func (r *Redactor) JSON(raw []byte) ([]byte, []string) {
	out, kinds, err := r.json(raw)
	if err != nil {
		s, k := r.String(string(raw))
		return []byte(s), k
	}
	return out, kinds
}

type jsonFrame struct {
	object    bool
	expectKey bool
	n         int // members or elements written so far
	key       string
}

func (r *Redactor) json(raw []byte) ([]byte, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var (
		out   = make([]byte, 0, len(raw)+16)
		stack []jsonFrame
		kinds []string
	)
	addKinds := func(ks []string) {
		for _, k := range ks {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	// sep writes the separator before a value or key and reports the key
	// the value belongs to.
	sep := func() (secretKind string) {
		if len(stack) == 0 {
			return ""
		}
		f := &stack[len(stack)-1]
		if f.object && !f.expectKey {
			out = append(out, ':')
			f.expectKey = true
			return classifyKey(f.key)
		}
		if f.n > 0 {
			out = append(out, ',')
		}
		f.n++
		return ""
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("decode json: %w", err)
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				// A secret-named key holding an object or array: its
				// strings are still redacted one by one.
				sep()
				if len(stack) >= maxJSONDepth {
					return nil, nil, fmt.Errorf("json nested deeper than %d", maxJSONDepth)
				}
				out = append(out, byte(t))
				stack = append(stack, jsonFrame{object: t == '{', expectKey: t == '{'})
			case '}', ']':
				out = append(out, byte(t))
				stack = stack[:len(stack)-1]
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
				f := &stack[n-1]
				if f.n > 0 {
					out = append(out, ',')
				}
				f.n++
				f.key = t
				f.expectKey = false
				s, ks := r.String(t)
				addKinds(ks)
				out = appendJSONString(out, s)
				continue
			}
			key := ""
			if n := len(stack); n > 0 && stack[n-1].object {
				key = stack[n-1].key
			}
			sep()
			s, ks := r.Value(key, t)
			addKinds(ks)
			out = appendJSONString(out, s)
		case json.Number:
			kind := sep()
			if kind != "" && kind == KindPassword {
				// a numeric password is still a password
				addKinds([]string{kind})
				out = appendJSONString(out, fmt.Sprintf(Marker, kind))
				continue
			}
			out = append(out, t...)
		case bool:
			sep()
			out = strconv.AppendBool(out, t)
		case nil:
			sep()
			out = append(out, "null"...)
		}
	}
	if len(stack) > 0 {
		return nil, nil, fmt.Errorf("decode json: %w", io.ErrUnexpectedEOF)
	}
	slices.Sort(kinds)
	return out, kinds, nil
}

// appendJSONString appends s as a JSON string without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Value redacts a value stored under a name: a JSON member, a form field,
// an environment variable, a header. The whole value is replaced when the
// name is a secret's (api_key, DB_PASSWORD, client_secret), the credential
// when it is an auth header's (Authorization: Bearer x), and otherwise the
// value goes through String. Empty, boolean and placeholder values
// ("$TOKEN", "<your-key>") are kept.
func (r *Redactor) Value(key, value string) (string, []string) {
	if key != "" {
		if kind := classifyKey(key); kind != "" && secretEnvValue(value) {
			if kind == KindSecretVar && isAWSSecretKey(key) {
				kind = KindAWSSecretKey
			}
			return fmt.Sprintf(Marker, kind), []string{kind}
		}
	}
	s, kinds := r.String(value)
	if kinds == nil && headerKey(key) {
		return r.headerValue(key, value)
	}
	return s, kinds
}

// headerKeys are HTTP headers whose value is a credential.
var headerKeys = []string{
	"authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "x-auth-token",
	"auth-token", "private-token", "x-access-token", "access-token", "x-vault-token", "cookie", "set-cookie",
}

func headerKey(k string) bool { return inFold(k, headerKeys) }

// headerValue redacts v as the value of header k.
func (r *Redactor) headerValue(k, v string) (string, []string) {
	s, kinds := r.String(k + ": " + v)
	if kinds == nil || len(s) < len(k)+2 {
		return v, nil
	}
	return s[len(k)+2:], kinds
}
