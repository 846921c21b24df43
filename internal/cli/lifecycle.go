package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
)

// Pidfile is what `vigil start` writes to Paths.RunDir/vigil.pid once the
// background serve answers /readyz. It holds the address serve really
// listens on, because serve may have been started with --addr.
type Pidfile struct {
	PID       int       `json:"pid"`
	Addr      string    `json:"addr"`
	StartedAt time.Time `json:"started_at"`
	Log       string    `json:"log"`
	Version   string    `json:"version"`
}

func pidfilePath(p config.Paths) string { return filepath.Join(p.RunDir, "vigil.pid") }

// readPidfile returns the pidfile and whether its process is alive. A
// missing pidfile is (nil, false, nil).
func readPidfile(p config.Paths) (*Pidfile, bool, error) {
	b, err := os.ReadFile(pidfilePath(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read pidfile: %w", err)
	}
	var pf Pidfile
	if err := json.Unmarshal(b, &pf); err != nil || pf.PID <= 0 {
		// A torn or foreign pidfile is as good as a stale one.
		return &Pidfile{}, false, nil
	}
	return &pf, processAlive(pf.PID), nil
}

// processAlive reports whether pid is a live (not zombie) process that
// looks like vigil serve. The command-line check guards against a reused
// pid; it is skipped where /proc does not exist.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
			return false
		}
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		return bytes.Contains(cmdline, []byte("\x00serve"))
	}
	return true
}

// dialAddr is the address a local client uses to reach a server listening
// on addr: a wildcard host is reached on loopback.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// runStart is `vigil start [serve flags]`: serve in the background, in its
// own session so it survives the terminal, logging to LogDir/serve.log.
func runStart(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(env.Stderr, "Usage: vigil start [serve flags]\n\nRuns `vigil serve` in the background, waits until it is ready and writes\nthe pidfile. Flags are passed to serve (see vigil serve -h).")
		return nil
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(env.Paths.RunDir, 0o755); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	// One start at a time: the check for a running serve and the pidfile
	// write must not interleave with another start.
	unlock, err := startLock(filepath.Join(env.Paths.RunDir, "start.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	pf, alive, err := readPidfile(env.Paths)
	if err != nil {
		return err
	}
	if alive {
		return &ExitError{Code: 1, Msg: fmt.Sprintf("vigil serve is already running (pid %d, http://%s); run `vigil stop` first", pf.PID, pf.Addr)}
	}
	if pf != nil {
		fmt.Fprintf(env.Stderr, "removing stale pidfile (pid %d is gone)\n", pf.PID)
		os.Remove(pidfilePath(env.Paths))
	}
	// serve writes the address it bound to this file: the only way to know
	// it when --addr asks for port 0.
	addrFile := filepath.Join(env.Paths.RunDir, "serve.addr")
	os.Remove(addrFile)
	serveArgs := append(append([]string{"serve"}, args...), "--addr-file", addrFile)
	bin, err := vigilBinary()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(env.Paths.LogDir, 0o755); err != nil {
		return fmt.Errorf("create log folder: %w", err)
	}
	logPath := filepath.Join(env.Paths.LogDir, "serve.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open serve log: %w", err)
	}
	defer logf.Close()
	startOffset, _ := logf.Seek(0, io.SeekEnd)

	cmd := exec.Command(bin, serveArgs...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start vigil serve: %w", err)
	}
	exited := make(chan error, 1)
	// Reaps the child if it dies (or, in tests, when it is stopped later).
	go func() { exited <- cmd.Wait() }()

	started := time.Now().UTC()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	addr := ""
	for {
		if addr == "" {
			if b, err := os.ReadFile(addrFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
				addr = strings.TrimSpace(string(b))
			}
		}
		if addr != "" {
			if ok, _ := httpProbe(ctx, client, dialAddr(addr), "/readyz", cfg.Server.Token); ok {
				break
			}
		}
		select {
		case err := <-exited:
			return &ExitError{Code: 1, Msg: fmt.Sprintf("vigil serve exited during startup (%v); its log %s says:\n%s", err, logPath, serveLogTail(logPath, startOffset, 20))}
		case <-ctx.Done():
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return &ExitError{Code: 1, Msg: fmt.Sprintf("vigil serve did not become ready within 30s (address %q); killed it. Log %s:\n%s", addr, logPath, serveLogTail(logPath, startOffset, 20))}
		}
	}
	pf = &Pidfile{PID: cmd.Process.Pid, Addr: addr, StartedAt: started, Log: logPath, Version: Version}
	b, _ := json.MarshalIndent(pf, "", "  ")
	if err := writePidfileAtomic(pidfilePath(env.Paths), append(b, '\n')); err != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		return fmt.Errorf("write pidfile (stopped serve again): %w", err)
	}
	fmt.Fprintf(env.Stdout, "vigil serve started: pid %d, http://%s, log %s\n", pf.PID, addr, logPath)
	return nil
}

// runStop is `vigil stop`: SIGTERM, wait, then SIGKILL.
func runStop(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "stop")
	wait := fs.Duration("timeout", 15*time.Second, "how long to wait for a clean shutdown before SIGKILL")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	pf, alive, err := readPidfile(env.Paths)
	if err != nil {
		return err
	}
	if pf == nil {
		fmt.Fprintln(env.Stdout, "vigil serve is not running (no pidfile)")
		return nil
	}
	if !alive {
		os.Remove(pidfilePath(env.Paths))
		fmt.Fprintf(env.Stdout, "vigil serve is not running; removed stale pidfile (pid %d)\n", pf.PID)
		return nil
	}
	if err := syscall.Kill(pf.PID, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal pid %d: %w", pf.PID, err)
	}
	deadline := time.Now().Add(*wait)
	for processAlive(pf.PID) {
		if time.Now().After(deadline) {
			// serve runs in its own session; kill whatever it spawned too.
			syscall.Kill(-pf.PID, syscall.SIGKILL)
			syscall.Kill(pf.PID, syscall.SIGKILL)
			fmt.Fprintf(env.Stderr, "vigil serve (pid %d) did not stop within %s; killed it\n", pf.PID, *wait)
			for i := 0; i < 100 && processAlive(pf.PID); i++ {
				time.Sleep(20 * time.Millisecond)
			}
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	os.Remove(pidfilePath(env.Paths))
	fmt.Fprintf(env.Stdout, "vigil serve stopped (pid %d)\n", pf.PID)
	return nil
}

// ServerStatus is the JSON of GET /api/v1/status.
type ServerStatus struct {
	Version              string    `json:"version"`
	StartedAt            time.Time `json:"started_at"`
	Addr                 string    `json:"addr"`
	EventsTotal          int64     `json:"events_total"`
	HookErrorsTotal      int64     `json:"hook_errors_total"`
	StoreBytes           int64     `json:"store_bytes"`
	SpoolBacklogBytes    int64     `json:"spool_backlog_bytes"`
	SpoolBacklogSegments int64     `json:"spool_backlog_segments"`
	LastEventTime        time.Time `json:"last_event_time"`
	IngestLagSeconds     float64   `json:"ingest_lag_seconds"`
}

// findServer locates the running serve: the pidfile first, else a server
// answering on the configured address (serve run in the foreground).
func findServer(ctx context.Context, env *Env, cfg config.Config) (pf *Pidfile, running bool, stale bool, err error) {
	pf, alive, err := readPidfile(env.Paths)
	if err != nil {
		return nil, false, false, err
	}
	if alive {
		return pf, true, false, nil
	}
	stale = pf != nil
	client := &http.Client{Timeout: time.Second}
	if ok, _ := httpProbe(ctx, client, dialAddr(cfg.Server.Addr), "/healthz", cfg.Server.Token); ok {
		return &Pidfile{Addr: cfg.Server.Addr}, true, stale, nil
	}
	return pf, false, stale, nil
}

// runStatus is `vigil status`; it exits 3 when serve is not running.
func runStatus(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "status")
	asJSON := fs.Bool("json", false, "print the server's status JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := env.LoadConfig()
	if err != nil {
		return err
	}
	pf, running, stale, err := findServer(ctx, env, cfg)
	if err != nil {
		return err
	}
	if !running {
		msg := "vigil serve is not running; start it with `vigil start`"
		if stale {
			msg = fmt.Sprintf("vigil serve is not running (stale pidfile for pid %d); start it with `vigil start`", pf.PID)
		}
		return &ExitError{Code: 3, Msg: msg}
	}
	st, raw, err := fetchStatus(ctx, dialAddr(pf.Addr), cfg.Server.Token)
	if *asJSON && err == nil {
		env.Stdout.Write(raw)
		return nil
	}
	w := env.Stdout
	if pf.PID > 0 {
		fmt.Fprintf(w, "vigil serve: running, pid %d, http://%s\n", pf.PID, pf.Addr)
	} else {
		fmt.Fprintf(w, "vigil serve: running at http://%s (not started by `vigil start`: no pidfile)\n", pf.Addr)
	}
	if err != nil {
		fmt.Fprintf(w, "status API:     not answering: %v\n", err)
		return &ExitError{Code: 1}
	}
	now := time.Now()
	started := st.StartedAt
	if started.IsZero() {
		started = pf.StartedAt
	}
	if !started.IsZero() {
		fmt.Fprintf(w, "uptime:         %s (since %s)\n", now.Sub(started).Round(time.Second), started.Local().Format(time.DateTime))
	}
	if st.Version != "" {
		fmt.Fprintf(w, "version:        %s\n", st.Version)
	}
	fmt.Fprintf(w, "events:         %d stored, %d hook errors\n", st.EventsTotal, st.HookErrorsTotal)
	fmt.Fprintf(w, "store size:     %s\n", sizeString(st.StoreBytes))
	fmt.Fprintf(w, "spool backlog:  %s in %d segment(s), ingest lag %.2fs\n", sizeString(st.SpoolBacklogBytes), st.SpoolBacklogSegments, st.IngestLagSeconds)
	if st.LastEventTime.IsZero() {
		fmt.Fprintln(w, "last event:     none yet")
	} else {
		fmt.Fprintf(w, "last event:     %s ago (%s)\n", now.Sub(st.LastEventTime).Round(time.Second), st.LastEventTime.Local().Format(time.DateTime))
	}
	return nil
}

func fetchStatus(ctx context.Context, addr, token string) (ServerStatus, []byte, error) {
	var st ServerStatus
	client := &http.Client{Timeout: 3 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/status", nil)
	if err != nil {
		return st, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return st, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return st, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return st, raw, fmt.Errorf("GET /api/v1/status: %s", resp.Status)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, raw, fmt.Errorf("decode /api/v1/status: %w", err)
	}
	return st, raw, nil
}

// httpProbe reports whether GET http://addr+path answers 200.
func httpProbe(ctx context.Context, client *http.Client, addr, path, token string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return false, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return true, nil
}

// serveLogTail returns the last n lines written to path after offset.
func serveLogTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	defer f.Close()
	f.Seek(offset, io.SeekStart)
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// startLock takes an exclusive flock on path (created if needed).
func startLock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func writePidfileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
