package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigil-sec/vigil/internal/config"
)

// DisabledMarker is the per-project off switch: when
// <project>/.claude/vigil.disabled exists, the hook records nothing for
// that project. Its content, if any, is a note for humans and is ignored.
const DisabledMarker = "vigil.disabled"

// MarkerPath is the per-project off switch file for projectDir.
func MarkerPath(projectDir string) string {
	return filepath.Join(projectDir, ".claude", DisabledMarker)
}

// Disabled reports whether the hook must record nothing for projectDir, and
// why. It checks the global switch (paths.DisabledFile) first, then the
// project's marker: at most two stat calls, because the hook calls it every
// time. An empty projectDir checks only the global switch.
func Disabled(paths config.Paths, projectDir string) (bool, string) {
	if paths.DisabledFile != "" {
		if _, err := os.Stat(paths.DisabledFile); err == nil {
			return true, "disabled globally (" + paths.DisabledFile + ")"
		}
	}
	if projectDir != "" {
		m := MarkerPath(projectDir)
		if _, err := os.Stat(m); err == nil {
			return true, "disabled for this project (" + m + ")"
		}
	}
	return false, ""
}

// SetEnabled creates (enabled=false) or removes (enabled=true) the off
// switch at marker. It reports whether anything changed.
func SetEnabled(marker string, enabled bool) (changed bool, err error) {
	if enabled {
		err := os.Remove(marker)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("remove %s: %w", marker, err)
		}
		return true, nil
	}
	if _, err := os.Stat(marker); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", filepath.Dir(marker), err)
	}
	note := []byte("Vigil records nothing while this file exists. Remove it with `vigil enable`.\n")
	if err := os.WriteFile(marker, note, 0o644); err != nil {
		return false, fmt.Errorf("write %s: %w", marker, err)
	}
	return true, nil
}
