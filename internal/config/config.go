// Package config owns Vigil's configuration: defaults, the file locations
// (XDG or $VIGIL_HOME), strict YAML loading, environment overrides and
// Validate, which reports every problem at once.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Paths are the files and folders Vigil uses.
type Paths struct {
	// Home is $VIGIL_HOME when set; then everything lives under it.
	Home      string
	ConfigDir string // ~/.config/vigil or $VIGIL_HOME
	DataDir   string // ~/.local/share/vigil or $VIGIL_HOME
	SpoolDir  string // DataDir/spool
	DBPath    string // DataDir/vigil.db
	LogDir    string // DataDir/log
	RunDir    string // DataDir/run (pidfile)
	// ConfigFile is ConfigDir/config.yaml (may not exist).
	ConfigFile string
	// RegistryFile lists connected projects.
	RegistryFile string
	// DisabledFile is the global off switch: when it exists the hook records nothing.
	DisabledFile string
}

// ResolvePaths computes Paths from the environment (VIGIL_HOME, XDG_*, HOME).
func ResolvePaths(getenv func(string) string) Paths {
	var p Paths
	if h := getenv("VIGIL_HOME"); h != "" {
		h, _ = filepath.Abs(h)
		p.Home, p.ConfigDir, p.DataDir = h, h, h
	} else {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		cfg := getenv("XDG_CONFIG_HOME")
		if cfg == "" {
			cfg = filepath.Join(home, ".config")
		}
		data := getenv("XDG_DATA_HOME")
		if data == "" {
			data = filepath.Join(home, ".local", "share")
		}
		p.ConfigDir = filepath.Join(cfg, "vigil")
		p.DataDir = filepath.Join(data, "vigil")
	}
	p.SpoolDir = filepath.Join(p.DataDir, "spool")
	p.DBPath = filepath.Join(p.DataDir, "vigil.db")
	p.LogDir = filepath.Join(p.DataDir, "log")
	p.RunDir = filepath.Join(p.DataDir, "run")
	p.ConfigFile = filepath.Join(p.ConfigDir, "config.yaml")
	p.RegistryFile = filepath.Join(p.ConfigDir, "projects.json")
	p.DisabledFile = filepath.Join(p.ConfigDir, "disabled")
	return p
}

// Config is the whole configuration. Sections owned by other subsystems
// live in their own files of this package.
type Config struct {
	Server Server `yaml:"server"`
	Store  Store  `yaml:"store"`
	Spool  Spool  `yaml:"spool"`
	Hook   Hook   `yaml:"hook"`
	Rules  Rules  `yaml:"rules"`
	Alerts Alerts `yaml:"alerts"`
	Loki   Loki   `yaml:"loki"`
}

// Server configures `vigil serve`.
type Server struct {
	Addr string `yaml:"addr"`
	// Token is required as a bearer token for non-loopback clients, and for
	// every request when Addr is not a loopback address.
	Token        string `yaml:"token"`
	MaxBodyBytes int64  `yaml:"max_body_bytes"`
	// PollInterval is how often the spool is checked when no change
	// notification arrived.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Store configures the embedded SQLite store.
type Store struct {
	Path           string        `yaml:"path"`
	RetentionDays  int           `yaml:"retention_days"`
	MaxSizeMB      int64         `yaml:"max_size_mb"`
	RetentionEvery time.Duration `yaml:"retention_interval"`
}

// Fsync policies for the spool.
const (
	FsyncAlways = "always" // fdatasync after every hook append
	FsyncNever  = "never"  // leave it to the OS (survives process crashes, not power loss)
)

// Spool configures the hook's append-only spool.
type Spool struct {
	Dir   string `yaml:"dir"`
	Fsync string `yaml:"fsync"`
	// KeepHours keeps fully ingested segments this long before deleting them.
	KeepHours int `yaml:"keep_hours"`
}

// Enforcement modes.
const (
	ModeMonitor = "monitor"
	ModeEnforce = "enforce"
)

// Fail modes: what the hook answers when it cannot decide.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// Hook configures `vigil hook`.
type Hook struct {
	Enforcement string `yaml:"enforcement"`
	FailMode    string `yaml:"fail_mode"`
	// MaxFieldBytes caps every stored string (default 16 KiB).
	MaxFieldBytes int `yaml:"max_field_bytes"`
	// MaxInputBytes is the most stdin the hook reads (default 8 MiB).
	MaxInputBytes int64 `yaml:"max_input_bytes"`
}

// Default returns the configuration used when no file says otherwise.
func Default(p Paths) Config {
	return Config{
		Server: Server{Addr: "127.0.0.1:7474", MaxBodyBytes: 16 << 20, PollInterval: 100 * time.Millisecond},
		Store:  Store{Path: p.DBPath, RetentionDays: 90, MaxSizeMB: 4096, RetentionEvery: 10 * time.Minute},
		Spool:  Spool{Dir: p.SpoolDir, Fsync: FsyncAlways, KeepHours: 24},
		Hook:   Hook{Enforcement: ModeMonitor, FailMode: FailOpen, MaxFieldBytes: 16 << 10, MaxInputBytes: 8 << 20},
		Rules:  defaultRules(),
		Alerts: defaultAlerts(),
		Loki:   defaultLoki(),
	}
}

// Load returns defaults overlaid with the config file (if it exists) and
// the environment. Unknown keys are errors; so is any invalid value.
func Load(p Paths, getenv func(string) string) (Config, error) {
	c := Default(p)
	path := p.ConfigFile
	if f := getenv("VIGIL_CONFIG"); f != "" {
		path = f
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := Decode(b, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist) && getenv("VIGIL_CONFIG") == "":
	default:
		return c, fmt.Errorf("read config: %w", err)
	}
	applyEnv(&c, getenv)
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Decode strictly decodes YAML into c: unknown fields are errors.
func Decode(b []byte, c *Config) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(c)
}

func applyEnv(c *Config, getenv func(string) string) {
	if v := getenv("VIGIL_ADDR"); v != "" {
		c.Server.Addr = v
	}
	if v := getenv("VIGIL_TOKEN"); v != "" {
		c.Server.Token = v
	}
	if v := getenv("VIGIL_ENFORCEMENT"); v != "" {
		c.Hook.Enforcement = v
	}
	if v := getenv("VIGIL_FAIL_MODE"); v != "" {
		c.Hook.FailMode = v
	}
	if v := getenv("VIGIL_FSYNC"); v != "" {
		c.Spool.Fsync = v
	}
	if v := getenv("VIGIL_LOKI_URL"); v != "" {
		c.Loki.URL = v
	}
}

// FieldError names one invalid setting.
type FieldError struct {
	Field string
	Value any
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s (got %v)", e.Field, e.Msg, e.Value)
}

// Errors is every problem Validate found.
type Errors []*FieldError

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Validate checks every section and returns all problems at once (Errors),
// or nil.
func (c *Config) Validate() error {
	var errs Errors
	add := func(field string, value any, msg string) {
		errs = append(errs, &FieldError{Field: field, Value: value, Msg: msg})
	}
	if c.Server.Addr == "" {
		add("server.addr", c.Server.Addr, "must be host:port")
	}
	if c.Server.MaxBodyBytes <= 0 {
		add("server.max_body_bytes", c.Server.MaxBodyBytes, "must be positive")
	}
	if c.Server.PollInterval <= 0 {
		add("server.poll_interval", c.Server.PollInterval, "must be positive")
	}
	if c.Store.RetentionDays < 0 {
		add("store.retention_days", c.Store.RetentionDays, "must be >= 0 (0 keeps forever)")
	}
	if c.Store.MaxSizeMB < 0 {
		add("store.max_size_mb", c.Store.MaxSizeMB, "must be >= 0 (0 means no limit)")
	}
	if c.Spool.Fsync != FsyncAlways && c.Spool.Fsync != FsyncNever {
		add("spool.fsync", c.Spool.Fsync, `must be "always" or "never"`)
	}
	if c.Hook.Enforcement != ModeMonitor && c.Hook.Enforcement != ModeEnforce {
		add("hook.enforcement", c.Hook.Enforcement, `must be "monitor" or "enforce"`)
	}
	if c.Hook.FailMode != FailOpen && c.Hook.FailMode != FailClosed {
		add("hook.fail_mode", c.Hook.FailMode, `must be "open" or "closed"`)
	}
	if c.Hook.MaxFieldBytes < 256 {
		add("hook.max_field_bytes", c.Hook.MaxFieldBytes, "must be at least 256")
	}
	if c.Hook.MaxInputBytes < 1<<16 {
		add("hook.max_input_bytes", c.Hook.MaxInputBytes, "must be at least 65536")
	}
	errs = append(errs, c.Rules.validate()...)
	errs = append(errs, c.Alerts.validate()...)
	errs = append(errs, c.Loki.validate()...)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Redacted returns a copy safe to print: secrets are replaced.
func (c Config) Redacted() Config {
	if c.Server.Token != "" {
		c.Server.Token = "[REDACTED]"
	}
	c.Alerts = c.Alerts.redacted()
	c.Loki = c.Loki.redacted()
	return c
}
