package project

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/internal/config"
)

// BenchmarkRegistryNameFor is what the hook pays per call to name its
// project: load a 20-project registry and look one directory up.
func BenchmarkRegistryNameFor(b *testing.B) {
	path := filepath.Join(b.TempDir(), "projects.json")
	for i := range 20 {
		if _, err := Register(path, Project{Dir: fmt.Sprintf("/home/dev/src/project-%02d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := LoadRegistry(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := r.NameFor("/home/dev/src/project-13/internal/x"); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkDisabled is the hook's on/off check when nothing is disabled.
func BenchmarkDisabled(b *testing.B) {
	home := b.TempDir()
	paths := config.ResolvePaths(func(k string) string {
		if k == "VIGIL_HOME" {
			return home
		}
		return ""
	})
	proj := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if off, _ := Disabled(paths, proj); off {
			b.Fatal("disabled")
		}
	}
}
