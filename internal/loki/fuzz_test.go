package loki

import (
	"testing"
)

// FuzzDecodeResult: Loki's answers are untrusted input; decoding must
// never panic.
func FuzzDecodeResult(f *testing.F) {
	for _, s := range []string{
		`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"b"},"values":[["1700000000000000000","line"]]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1700000000.5,"3"]]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2"]}}`,
		`{"status":"error"}`,
		`{"status":"success","data":{"resultType":"streams","result":[{"values":[["x"]]}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResult(b)
		if err == nil && r == nil {
			t.Fatal("nil result without an error")
		}
	})
}

// FuzzExportRuler: rule files are user input; the exporter must not panic
// and whatever it exports must render.
func FuzzExportRuler(f *testing.F) {
	for _, s := range []string{
		"rules:\n  - id: a\n    severity: HIGH\n    category: c\n    condition:\n      tool: Bash\n",
		"rules:\n  x:\n    severity: LOW\n    category: c\n    pattern: 'command.*(curl|wget)'\n",
		"lists:\n  l: [a, b]\nmacros:\n  m: {tool: '@l'}\nrules:\n  - id: b\n    condition: {macro: m}\n",
		"macros:\n  m: {macro: m}\nrules:\n  - id: loop\n    condition: {macro: m}\n",
		"rules:\n  - id: g\n    condition:\n      field: {file_path: {glob: ['**/[!a]x?']}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ExportRuler([]RuleFile{{Name: "fuzz.yaml", Data: b}}, RulerOptions{})
		if err != nil {
			return
		}
		if _, err := x.YAML(); err != nil {
			t.Fatal(err)
		}
	})
}
