package hook

import (
	"os"
	"path/filepath"
	"sync"
)

// LogFile is Vigil's own log for the hook: opened on first write only (a
// clean hook run touches no log file), appended with O_APPEND so
// concurrent hooks' lines stay whole, and rotated once past MaxBytes.
type LogFile struct {
	Path     string
	MaxBytes int64
	once     sync.Once
	f        *os.File
	err      error
}

func (l *LogFile) Write(p []byte) (int, error) {
	l.once.Do(l.open)
	if l.err != nil {
		// Last resort: stderr is never read as a decision by Claude Code.
		return os.Stderr.Write(p)
	}
	return l.f.Write(p)
}

func (l *LogFile) open() {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		l.err = err
		return
	}
	if l.MaxBytes > 0 {
		if st, err := os.Stat(l.Path); err == nil && st.Size() > l.MaxBytes {
			_ = os.Rename(l.Path, l.Path+".1")
		}
	}
	l.f, l.err = os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// Close closes the file if it was opened.
func (l *LogFile) Close() error {
	if l.f != nil {
		return l.f.Close()
	}
	return nil
}
