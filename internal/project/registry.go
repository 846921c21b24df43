// Package project owns how Vigil attaches to a Claude Code project: the
// merge of Vigil's hook entries into .claude/settings.json (connect and
// disconnect), the registry of connected projects, and the on/off markers
// the hook checks before recording anything.
package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Project is one connected project in the registry.
type Project struct {
	Name string `json:"name"`
	// Dir is the cleaned absolute project directory as the user gave it.
	Dir string `json:"dir"`
	// RealDir is Dir with symlinks resolved, when that differs from Dir, so
	// that a hook that sees the resolved path still finds the project.
	RealDir string `json:"real_dir,omitempty"`
	// Settings is the settings.json that holds the hook entries.
	Settings    string    `json:"settings"`
	ConnectedAt time.Time `json:"connected_at"`
	// Created lists what connect created (the settings file, the .claude
	// folder), so disconnect removes them again when nothing else is left.
	Created []string `json:"created,omitempty"`
	// KeepEmpty lists settings containers that were empty before connect
	// ("hooks", event names), which disconnect leaves in place.
	KeepEmpty []string `json:"keep_empty,omitempty"`
}

// Registry lists connected projects. It is a small JSON file
// (config.Paths.RegistryFile) read by the hook on every call, so it stays
// flat and cheap to decode.
type Registry struct {
	Projects []Project `json:"projects"`
}

// LoadRegistry reads the registry at path. A missing or empty file is an
// empty registry.
func LoadRegistry(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Registry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	r := &Registry{}
	if len(bytes.TrimSpace(b)) == 0 {
		return r, nil
	}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("decode registry %s: %w", path, err)
	}
	return r, nil
}

// NameFor returns the name of the connected project that contains dir. When
// projects nest, the longest matching directory wins. dir should be a clean
// absolute path; it is cleaned again here.
func (r *Registry) NameFor(dir string) (name string, ok bool) {
	p, ok := r.Lookup(dir)
	return p.Name, ok
}

// Lookup returns the connected project that contains dir (the longest
// matching directory wins).
func (r *Registry) Lookup(dir string) (Project, bool) {
	if r == nil || dir == "" {
		return Project{}, false
	}
	dir = filepath.Clean(dir)
	best, at := -1, -1
	for i, p := range r.Projects {
		for _, d := range [2]string{p.Dir, p.RealDir} {
			if d != "" && len(d) > best && within(dir, d) {
				best, at = len(d), i
			}
		}
	}
	if at < 0 {
		return Project{}, false
	}
	return r.Projects[at], true
}

// Find returns the project registered for exactly dir.
func (r *Registry) Find(dir string) (Project, bool) {
	dir = filepath.Clean(dir)
	for _, p := range r.Projects {
		if p.Dir == dir || (p.RealDir != "" && p.RealDir == dir) {
			return p, true
		}
	}
	return Project{}, false
}

// within reports whether dir is root or inside it.
func within(dir, root string) bool {
	if dir == root {
		return true
	}
	if root == string(filepath.Separator) {
		return strings.HasPrefix(dir, root)
	}
	return strings.HasPrefix(dir, root) && dir[len(root)] == filepath.Separator
}

// Register adds p to the registry at path, or replaces the entry with the
// same Dir. An empty p.Name keeps the existing name, else the folder name.
// It holds an exclusive lock on the registry's folder for the whole
// read-modify-write, so concurrent `vigil connect` runs do not lose entries.
func Register(path string, p Project) (Project, error) {
	p.Dir = filepath.Clean(p.Dir)
	err := updateRegistry(path, func(r *Registry) error {
		for i, old := range r.Projects {
			if old.Dir == p.Dir {
				if p.Name == "" {
					p.Name = old.Name
				}
				r.Projects[i] = p
				return nil
			}
		}
		if p.Name == "" {
			p.Name = filepath.Base(p.Dir)
		}
		r.Projects = append(r.Projects, p)
		return nil
	})
	return p, err
}

// Unregister removes the project registered for dir. It reports whether
// there was one.
func Unregister(path, dir string) (bool, error) {
	dir = filepath.Clean(dir)
	found := false
	err := updateRegistry(path, func(r *Registry) error {
		kept := r.Projects[:0]
		for _, p := range r.Projects {
			if p.Dir == dir || (p.RealDir != "" && p.RealDir == dir) {
				found = true
				continue
			}
			kept = append(kept, p)
		}
		r.Projects = kept
		return nil
	})
	return found, err
}

func updateRegistry(path string, fn func(*Registry) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create registry folder: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := LoadRegistry(path)
	if err != nil {
		return err
	}
	if err := fn(r); err != nil {
		return err
	}
	sort.SliceStable(r.Projects, func(i, j int) bool { return r.Projects[i].Dir < r.Projects[j].Dir })
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode registry: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}
