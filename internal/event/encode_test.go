package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// plainEvent has Event's fields but not its methods: json.Marshal of it is
// encoding/json's own reflection-driven encoding, the reference.
type plainEvent Event

func reference(t testing.TB, e *Event) []byte {
	t.Helper()
	b, err := json.Marshal((*plainEvent)(e))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkSame(t testing.TB, what string, e *Event) {
	t.Helper()
	got, want := e.AppendJSON(nil), reference(t, e)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: AppendJSON differs from encoding/json\n got %s\nwant %s", what, got, want)
	}
	if viaMarshal, _ := json.Marshal(e); !bytes.Equal(viaMarshal, want) {
		t.Fatalf("%s: json.Marshal(*Event) differs\n got %s\nwant %s", what, viaMarshal, want)
	}
}

// TestAppendJSONMatchesReflection: the hand-written encoder writes what
// encoding/json writes, for every fixture and for events with every field
// set (reflection fills them, so a field added to the structs but not to
// AppendJSON fails here), all zero, or holding hostile strings.
func TestAppendJSONMatchesReflection(t *testing.T) {
	for name, ev := range fixtureEvents(t) {
		checkSame(t, name, ev)
	}
	checkSame(t, "zero event", &Event{})
	checkSame(t, "empty redactions", &Event{Security: Security{Redactions: []string{}}})
	for _, s := range []string{"plain", "<script>&amp;\"'\\", "\x00\x01\b\f\n\r\t\x1f\x7f", "é ☃ 🙂", "\xff\xfe bad utf8 \xc3", "line\u2028sep\u2029", ""} {
		var e Event
		fill(reflect.ValueOf(&e).Elem(), s, 1)
		checkSame(t, "filled with "+s, &e)
		var z Event
		fill(reflect.ValueOf(&z).Elem(), s, 0)
		checkSame(t, "zeros and "+s, &z)
	}
}

// fixtureEvents normalises every hook fixture, by file name.
func fixtureEvents(t *testing.T) map[string]*Event {
	t.Helper()
	files, _ := filepath.Glob("testdata/hooks/*.json")
	if len(files) < 30 {
		t.Fatalf("found %d fixtures", len(files))
	}
	out := map[string]*Event{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := fixedNormalizer(t).Normalize(raw)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = ev
	}
	return out
}

// fill sets every field of v: strings to s, numbers to n (0 leaves them
// zero), bools to n != 0, slices to two elements, pointers to new values.
func fill(v reflect.Value, s string, n int64) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		v.SetInt(n * 12345)
	case reflect.Bool:
		v.SetBool(n != 0)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), s, n)
	case reflect.Slice:
		if v.Type() == reflect.TypeOf(json.RawMessage{}) {
			raw, _ := json.Marshal(map[string]any{"k": s, "n": []int{1, 2}, "<": "&"})
			v.SetBytes(raw)
			return
		}
		sl := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(sl.Index(i), s, n)
		}
		v.Set(sl)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 23, 21, 0, 0, int(n)*123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), s, n)
		}
	default:
		panic("fill: unhandled kind " + v.Kind().String() + " — teach AppendJSON and this test the new field")
	}
}

// FuzzAppendJSON: any string in any text field encodes as encoding/json
// encodes it.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"", "a", "<>&", "\u2028", "\xff", "\"\\", "\x00"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		e := &Event{ID: a, Host: b, Cwd: a, Truncated: []string{a, b}}
		e.Action.Command, e.Action.Prompt, e.Action.Paths = a, b, []string{b}
		e.Security.Redactions = []string{a}
		e.Decision = &Decision{Action: b, Reason: a}
		checkSame(t, "fuzz", e)
	})
}

// benchEvent is the PostToolUse Bash fixture, normalised: the event the
// encoder and decoder benchmarks work on.
func benchEvent(b *testing.B) *Event {
	raw, err := os.ReadFile("testdata/hooks/PostToolUse-Bash.json")
	if err != nil {
		b.Fatal(err)
	}
	ev, err := fixedNormalizer(b).Normalize(raw)
	if err != nil {
		b.Fatal(err)
	}
	return ev
}

func BenchmarkAppendJSON(b *testing.B) {
	ev := benchEvent(b)
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = ev.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal((*plainEvent)(ev))
		}
	})
}
