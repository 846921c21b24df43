package project

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
)

func TestRegistryNameFor(t *testing.T) {
	r := &Registry{Projects: []Project{
		{Name: "mono", Dir: "/src/mono"},
		{Name: "shop", Dir: "/src/mono/services/shop"},
		{Name: "linked", Dir: "/home/a/link", RealDir: "/data/real"},
		{Name: "rootproj", Dir: "/"},
	}}
	tests := []struct {
		dir  string
		want string
		ok   bool
	}{
		{"/src/mono", "mono", true},
		{"/src/mono/", "mono", true},
		{"/src/mono/lib/x", "mono", true},
		{"/src/mono/services/shop", "shop", true},
		{"/src/mono/services/shop/api", "shop", true},
		{"/src/mono/services/shopping", "mono", true},
		{"/src/monolith", "rootproj", true},
		{"/data/real/sub", "linked", true},
		{"/home/a/link", "linked", true},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got, ok := r.NameFor(tt.dir)
			if got != tt.want || ok != tt.ok {
				t.Errorf("NameFor(%q) = %q %v, want %q %v", tt.dir, got, ok, tt.want, tt.ok)
			}
		})
	}
	var nilReg *Registry
	if _, ok := nilReg.NameFor("/x"); ok {
		t.Error("nil registry matched")
	}
}

func TestRegistryLoadMissingAndEmpty(t *testing.T) {
	dir := t.TempDir()
	r, err := LoadRegistry(filepath.Join(dir, "nope.json"))
	if err != nil || len(r.Projects) != 0 {
		t.Fatalf("missing: %+v %v", r, err)
	}
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, nil, 0o644)
	if r, err := LoadRegistry(empty); err != nil || len(r.Projects) != 0 {
		t.Fatalf("empty: %+v %v", r, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	if _, err := LoadRegistry(bad); err == nil {
		t.Fatal("corrupt registry loaded without error")
	}
}

func TestRegisterUnregister(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "projects.json")
	p, err := Register(path, Project{Dir: "/src/shop/", ConnectedAt: time.Now()})
	if err != nil || p.Name != "shop" || p.Dir != "/src/shop" {
		t.Fatalf("register: %+v %v", p, err)
	}
	if _, err := Register(path, Project{Name: "boutique", Dir: "/src/shop"}); err != nil {
		t.Fatal(err)
	}
	// Re-registering without a name keeps the chosen one.
	if p, _ := Register(path, Project{Dir: "/src/shop"}); p.Name != "boutique" {
		t.Errorf("name not kept: %q", p.Name)
	}
	r, _ := LoadRegistry(path)
	if len(r.Projects) != 1 || r.Projects[0].Name != "boutique" {
		t.Fatalf("registry: %+v", r.Projects)
	}
	if found, err := Unregister(path, "/src/shop"); !found || err != nil {
		t.Fatalf("unregister: %v %v", found, err)
	}
	if found, _ := Unregister(path, "/src/shop"); found {
		t.Error("unregister twice found it again")
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("temp files left behind: %v", ents)
	}
}

// TestRegisterConcurrent runs many registrations at once; the folder lock
// must keep every one of them.
func TestRegisterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "projects.json")
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := Register(path, Project{Dir: fmt.Sprintf("/src/p%02d", i)})
			errs <- err
		})
	}
	// Readers (the hook) never see a torn file while writers run.
	stop := make(chan struct{})
	var readErr error
	var rwg sync.WaitGroup
	rwg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := LoadRegistry(path); err != nil {
				readErr = err
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if readErr != nil {
		t.Fatalf("reader saw a torn registry: %v", readErr)
	}
	r, _ := LoadRegistry(path)
	if len(r.Projects) != n {
		t.Fatalf("want %d projects, got %d", n, len(r.Projects))
	}
}

func TestDisabled(t *testing.T) {
	home := t.TempDir()
	paths := config.ResolvePaths(func(k string) string {
		if k == "VIGIL_HOME" {
			return home
		}
		return ""
	})
	proj := t.TempDir()
	check := func(want bool, wantIn string) {
		t.Helper()
		got, reason := Disabled(paths, proj)
		if got != want || (want && !contains(reason, wantIn)) {
			t.Errorf("Disabled = %v %q, want %v containing %q", got, reason, want, wantIn)
		}
	}
	check(false, "")
	if ch, err := SetEnabled(MarkerPath(proj), false); !ch || err != nil {
		t.Fatalf("disable: %v %v", ch, err)
	}
	if ch, _ := SetEnabled(MarkerPath(proj), false); ch {
		t.Error("disable twice reported a change")
	}
	check(true, "this project")
	if _, err := SetEnabled(paths.DisabledFile, false); err != nil {
		t.Fatal(err)
	}
	check(true, "globally")
	SetEnabled(paths.DisabledFile, true)
	SetEnabled(MarkerPath(proj), true)
	check(false, "")
	if ch, err := SetEnabled(MarkerPath(proj), true); ch || err != nil {
		t.Errorf("enable twice: %v %v", ch, err)
	}
	if got, _ := Disabled(paths, ""); got {
		t.Error("empty project dir disabled")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
