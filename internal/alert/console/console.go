// Package console prints one human line per alert notification, coloured
// by severity when the writer is a terminal (or when forced).
package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/rules"
)

var _ alert.Notifier = (*Console)(nil)

// Console writes to one writer (serve passes stderr).
type Console struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

// New returns a Console writing to w. mode is "auto" (colour only when w
// is a terminal), "always" or "never".
func New(w io.Writer, mode string) *Console {
	c := &Console{w: w}
	switch mode {
	case "always":
		c.color = true
	case "never":
	default:
		c.color = isTerminal(w)
	}
	return c
}

// isTerminal reports whether w is a character device (a TTY), without
// a dependency: a pipe, file or socket is not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Name implements alert.Notifier.
func (c *Console) Name() string { return "console" }

const reset = "\x1b[0m"

func ansi(s rules.Severity) string {
	switch s {
	case rules.Critical:
		return "\x1b[1;97;41m" // bold white on red
	case rules.High:
		return "\x1b[1;31m" // bold red
	case rules.Medium:
		return "\x1b[33m" // yellow
	default:
		return "\x1b[36m" // cyan
	}
}

// Line formats n as one line (without colour), e.g.
//
//	2026-11-23T10:00:00Z HIGH     ALERT dangerous_commands: rm -rf ~ (session 1234, project web) [alert 0193…]
func Line(n alert.Notification) string {
	return format(n, false)
}

func format(n alert.Notification, color bool) string {
	var b strings.Builder
	b.WriteString(n.Time.UTC().Format(time.RFC3339))
	b.WriteByte(' ')
	sev := fmt.Sprintf("%-8s", n.Severity)
	if color {
		b.WriteString(ansi(n.Severity) + strings.TrimSpace(sev) + reset + sev[len(strings.TrimSpace(sev)):])
	} else {
		b.WriteString(sev)
	}
	b.WriteByte(' ')
	label := map[alert.Kind]string{alert.KindNew: "ALERT", alert.KindRepeat: "REPEAT", alert.KindEscalated: "ESCALATED", alert.KindSummary: "SUMMARY"}[n.Kind]
	if label == "" {
		label = strings.ToUpper(string(n.Kind))
	}
	fmt.Fprintf(&b, "%-9s ", label)
	// One line: a multi-line summary must not break log parsers.
	b.WriteString(strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(n.Title))
	if n.Alert.ID != "" {
		fmt.Fprintf(&b, " [alert %s]", n.Alert.ID)
	}
	b.WriteByte('\n')
	return b.String()
}

// Notify implements alert.Notifier.
func (c *Console) Notify(_ context.Context, n alert.Notification) error {
	line := format(n, c.color)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.w, line); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}
