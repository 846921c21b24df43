package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// SettingsFile is the project settings file Claude Code reads (and the
// one connect edits) for dir; for the user settings pass the home folder.
func SettingsFile(dir string) string {
	return filepath.Join(dir, ".claude", "settings.json")
}

// Result says what Connect or Disconnect did to a settings file.
type Result struct {
	// File is the settings file, symlinks resolved.
	File    string
	Changed bool
	Created bool // the file did not exist before
	// CreatedDir is set when Connect created the file's folder (.claude).
	CreatedDir bool
	// Deleted is set when Disconnect removed a file Connect had created
	// and that held nothing else.
	Deleted bool
	// Backup holds the previous content when an existing file changed.
	Backup string
	// Removed counts the handlers Disconnect dropped.
	Removed int
	// EmptyBefore lists what Connect found empty ("hooks", event names;
	// see EmptyContainers): pass it back to Disconnect as KeepEmpty.
	EmptyBefore []string
}

// Connect merges Vigil's hook (command) into the settings file. A symlinked
// settings file (dotfile managers) is edited at its target. The previous
// content is kept in a backup next to it before any change. A malformed
// file is left untouched and reported as *MalformedError.
func Connect(file, command string, isSelf func(string) bool, now time.Time) (Result, error) {
	var empty []string
	res, err := edit(file, now, func(path string, b []byte) ([]byte, bool, int, error) {
		empty = EmptyContainers(b)
		out, changed, err := Merge(path, b, command, isSelf)
		return out, changed, 0, err
	})
	res.EmptyBefore = empty
	return res, err
}

// DisconnectOptions say what Connect found or made, so that Disconnect
// restores the file exactly; the zero value removes whatever is left empty.
type DisconnectOptions struct {
	// CreatedFile: Connect created the file. If nothing else is left in it,
	// it is removed rather than left as {}.
	CreatedFile bool
	// KeepEmpty: containers that were empty before Connect (Result.EmptyBefore).
	KeepEmpty []string
}

// Disconnect removes every Vigil hook handler from the settings file. A
// missing file is not an error: there is nothing to remove.
func Disconnect(file string, isSelf func(string) bool, now time.Time, opts DisconnectOptions) (Result, error) {
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return Result{File: file}, nil
	}
	return edit(file, now, func(path string, b []byte) ([]byte, bool, int, error) {
		out, n, err := Unmerge(path, b, isSelf, opts.KeepEmpty...)
		if err == nil && n > 0 && opts.CreatedFile && bytes.Equal(bytes.TrimSpace(out), []byte("{}")) {
			return nil, true, n, nil
		}
		return out, n > 0, n, err
	})
}

func edit(file string, now time.Time, fn func(path string, b []byte) ([]byte, bool, int, error)) (Result, error) {
	if real, err := filepath.EvalSymlinks(file); err == nil {
		file = real
	}
	res := Result{File: file}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		res.CreatedDir = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("create %s: %w", dir, err)
	}
	// Two connects on the same project must not both read the old file.
	unlock, err := lockDir(dir)
	if err != nil {
		return res, err
	}
	defer unlock()

	perm := fs.FileMode(0o644)
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Created = true
	case err != nil:
		return res, fmt.Errorf("read %s: %w", file, err)
	default:
		if st, err := os.Stat(file); err == nil {
			perm = st.Mode().Perm()
		}
	}
	out, changed, removed, err := fn(file, b)
	if err != nil {
		return res, err
	}
	res.Removed = removed
	if !changed {
		res.CreatedDir = false
		return res, nil
	}
	if out == nil {
		// Disconnect of a file Connect created: nothing of anyone else's
		// is in it, so no backup either.
		if err := os.Remove(file); err != nil {
			return res, fmt.Errorf("remove %s: %w", file, err)
		}
		res.Changed, res.Deleted = true, true
		return res, nil
	}
	if !res.Created {
		if res.Backup, err = backup(file, b, perm, now); err != nil {
			return res, err
		}
	}
	if err := writeFileAtomic(file, out, perm); err != nil {
		return res, err
	}
	res.Changed = true
	return res, nil
}

// BackupSuffix starts the name of every backup connect and disconnect
// keep: settings.json.vigil-backup-20261123T192900.123Z.
const BackupSuffix = ".vigil-backup-"

func backup(file string, b []byte, perm fs.FileMode, now time.Time) (string, error) {
	base := file + BackupSuffix + now.UTC().Format("20060102T150405.000Z")
	name := base
	for i := 1; ; i++ {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			name = fmt.Sprintf("%s-%d", base, i)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create backup of %s: %w", file, err)
		}
		_, err = f.Write(b)
		if err2 := f.Close(); err == nil {
			err = err2
		}
		if err != nil {
			os.Remove(name)
			return "", fmt.Errorf("write backup %s: %w", name, err)
		}
		return name, nil
	}
}
