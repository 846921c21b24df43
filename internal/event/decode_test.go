package event

import (
	"encoding/json"
	"reflect"
	"testing"
)

// sameAsJSON decodes data with Unmarshal and with encoding/json and fails
// unless both fail or both give the same event. It reports whether the
// line was valid.
func sameAsJSON(t *testing.T, name string, data []byte) bool {
	t.Helper()
	var fast, ref Event
	errFast := Unmarshal(data, &fast)
	errRef := json.Unmarshal(data, &ref)
	if (errFast == nil) != (errRef == nil) {
		t.Fatalf("%s: Unmarshal error %v, encoding/json error %v\n%s", name, errFast, errRef, data)
	}
	if errRef == nil && !reflect.DeepEqual(fast, ref) {
		t.Fatalf("%s: Unmarshal gives\n%+v\nencoding/json gives\n%+v\nfor %s", name, fast, ref, data)
	}
	return errRef == nil
}

// fastPath reports whether data decodes without encoding/json.
func fastPath(data []byte) bool {
	var e Event
	d := decoder{b: data}
	if d.event(&e) != nil {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

// TestUnmarshalMatchesJSON: every fixture, events with every field set
// (reflection fills them, so a field added to the structs but not to the
// decoder fails here), hostile strings, and lines that leave the fast path
// (nulls, unknown, repeated or differently cased keys, bad numbers, bad
// JSON) decode as encoding/json decodes them — and the canonical lines do
// take the fast path.
func TestUnmarshalMatchesJSON(t *testing.T) {
	var lines [][]byte
	for _, ev := range fixtureEvents(t) {
		lines = append(lines, ev.AppendJSON(nil))
	}
	for _, s := range []string{"plain", "<script>&amp;\"'\\", "\x00\x01\b\f\n\r\t\x1f\x7f", "é ☃ 🙂", "\xff\xfe bad utf8 \xc3", "line\u2028sep\u2029", ""} {
		for _, n := range []int64{0, 1} {
			var e Event
			fill(reflect.ValueOf(&e).Elem(), s, n)
			lines = append(lines, e.AppendJSON(nil))
		}
	}
	lines = append(lines, (&Event{}).AppendJSON(nil))
	for i, l := range lines {
		if !sameAsJSON(t, "canonical", l) {
			t.Fatalf("canonical line %d is not valid JSON: %s", i, l)
		}
		if !fastPath(l) {
			t.Errorf("canonical line %d left the fast path: %s", i, l)
		}
	}
	for _, l := range []string{
		``, `{`, `[]`, `null`, `{}`, `{} x`, ` {"id":"a"} `, `{"id":null}`, `{"ID":"a"}`, `{"id":"a","id":"b"}`,
		`{"schema_version":1.0}`, `{"schema_version":01}`, `{"schema_version":-0}`, `{"schema_version":99999999999999999999}`,
		`{"timestamp":"2026-11-23T21:00:00Z"}`, `{"timestamp":"2026-11-23 21:00:00"}`, `{"timestamp":null}`,
		`{"security_flags":{"redactions":null}}`, `{"security_flags":{"redactions":[]}}`, `{"security_flags":{"redactions":["a",]}}`,
		`{"action_details":{"input":null}}`, `{"action_details":{"input":{"a":[1,2.5e-3,true,null,"\u00e9"]}}}`,
		`{"action_details":{"input":{"a":01}}}`, `{"action_details":{"input":{"a" 1}}}`, `{"action_details":{"input":[1,]}}`,
		`{"action_details":{"input":{"\u0zzc":1}}}`, `{"action_details":{"input":{"\q":1}}}`, `{"action_details":{"input":{"\u00e9\n":1}}}`, // escapes in keys (found by FuzzUnmarshal)
		`{"action_details":{"content":null}}`, `{"action_details":{"content":{"bytes":3,"sha256":"x"}}}`,
		`{"action_details":{"content_facts":{"findings":[{"rule":"r","severity":"HIGH","category":"c"}]}}}`,
		`{"action_details":{"content_facts":{"findings":null}}}`, `{"action_details":{"unknown":1}}`,
		`{"outcome":{"exit_code":-1,"success":true}}`, `{"outcome":{"exit_code":1e2}}`,
		`{"id":"a\u0000b"}`, `{"id":"\ud83d\ude00"}`, `{"id":"\ud83d"}`, `{"id":"\x"}`, "{\"id\":\"a\tb\"}", "{\"id\":\"\xff\"}",
		`{"truncated":["command"],"hook_error":{"reason":"r","input_bytes":5}}`,
	} {
		sameAsJSON(t, "odd", []byte(l))
	}
}

// FuzzUnmarshal: any input decodes as encoding/json decodes it.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{"plain", "<>&\"\\", "\x00", "é"} {
		var e Event
		fill(reflect.ValueOf(&e).Elem(), s, 1)
		f.Add(e.AppendJSON(nil))
	}
	f.Add([]byte(`{"id":"a","action_details":{"input":{"k":[1,{"x":null}]}}}`))
	f.Add([]byte(`{"id":"a","id":"b"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, "fuzz", data)
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	line := benchEvent(b).AppendJSON(nil)
	b.Run("Unmarshal", func(b *testing.B) {
		for b.Loop() {
			var e Event
			if err := Unmarshal(line, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var e Event
			if err := json.Unmarshal(line, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
