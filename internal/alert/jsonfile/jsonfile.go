// Package jsonfile appends alert notifications to a file, one JSON object
// per line, rotating by size: path → path.1 → … → path.N, keeping N old
// files. Lines are written whole with one write call, so a reader tailing
// the file never sees half an object.
package jsonfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
)

var _ alert.Notifier = (*File)(nil)

// File is an append-only JSON-lines file with size rotation.
type File struct {
	path    string
	maxSize int64 // 0: never rotate
	keep    int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// New opens (creating it and its directory) the file of c.
func New(c config.JSONFileChannel) (*File, error) {
	j := &File{path: c.Path, maxSize: int64(c.MaxSizeMB) << 20, keep: c.KeepFiles}
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o700); err != nil {
		return nil, fmt.Errorf("alert file: %w", err)
	}
	if err := j.open(); err != nil {
		return nil, err
	}
	return j, nil
}

// NewWithSize is New with the rotation size in bytes (tests, small limits).
func NewWithSize(path string, maxBytes int64, keep int) (*File, error) {
	j := &File{path: path, maxSize: maxBytes, keep: keep}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("alert file: %w", err)
	}
	if err := j.open(); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *File) open() error {
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("alert file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("alert file: %w", err)
	}
	j.f, j.size = f, st.Size()
	return nil
}

// Name implements alert.Notifier.
func (j *File) Name() string { return "file" }

// Notify implements alert.Notifier.
func (j *File) Notify(_ context.Context, n alert.Notification) error {
	line, err := json.Marshal(n)
	if err != nil {
		return alert.Permanent(fmt.Errorf("alert file: %w", err))
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		if err := j.open(); err != nil {
			return err
		}
	}
	if j.maxSize > 0 && j.size > 0 && j.size+int64(len(line)) > j.maxSize {
		if err := j.rotate(); err != nil {
			return err
		}
	}
	w, err := j.f.Write(line)
	j.size += int64(w)
	if err != nil {
		return fmt.Errorf("alert file %s: %w", j.path, err)
	}
	return nil
}

// rotate shifts path.(i) → path.(i+1), dropping the oldest, and starts a
// new file. With keep 0 the current file is simply truncated.
func (j *File) rotate() error {
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("alert file rotate: %w", err)
	}
	j.f = nil
	if j.keep <= 0 {
		if err := os.Truncate(j.path, 0); err != nil {
			return fmt.Errorf("alert file rotate: %w", err)
		}
		return j.open()
	}
	if err := os.Remove(j.path + "." + strconv.Itoa(j.keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("alert file rotate: %w", err)
	}
	for i := j.keep - 1; i >= 1; i-- {
		from := j.path + "." + strconv.Itoa(i)
		if err := os.Rename(from, j.path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("alert file rotate: %w", err)
		}
	}
	if err := os.Rename(j.path, j.path+".1"); err != nil {
		return fmt.Errorf("alert file rotate: %w", err)
	}
	return j.open()
}

// Close implements io.Closer; the dispatcher calls it at shutdown.
func (j *File) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
