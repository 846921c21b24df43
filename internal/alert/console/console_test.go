package console

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/rules"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestLines(t *testing.T) {
	n := alert.Notification{Kind: alert.KindNew, Severity: rules.High, Time: t0, Title: "dangerous_commands: rm -rf ~\nsecond line", Alert: alert.Alert{ID: "a1"}}
	sum := alert.Notification{Kind: alert.KindSummary, Severity: rules.Critical, Time: t0, Title: "held back 3 alerts (limit 1/min): 3× x"}
	tests := []struct {
		name string
		mode string
		n    alert.Notification
		want string
	}{
		{"plain", "never", n, "2026-11-23T10:00:00Z HIGH     ALERT     dangerous_commands: rm -rf ~\\nsecond line [alert a1]\n"},
		{"coloured", "always", n, "2026-11-23T10:00:00Z \x1b[1;31mHIGH\x1b[0m     ALERT     dangerous_commands: rm -rf ~\\nsecond line [alert a1]\n"},
		{"summary", "never", sum, "2026-11-23T10:00:00Z CRITICAL SUMMARY   held back 3 alerts (limit 1/min): 3× x\n"},
		{"auto on a buffer is plain", "auto", n, "2026-11-23T10:00:00Z HIGH     ALERT     dangerous_commands: rm -rf ~\\nsecond line [alert a1]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := New(&b, tc.mode).Notify(context.Background(), tc.n); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
}

func TestTerminalDetection(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file counted as a terminal")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !isTerminal(tty) {
			t.Error("/dev/tty not detected as a terminal")
		}
	}
}
