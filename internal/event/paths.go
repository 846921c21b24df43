package event

import (
	"os"
	"path/filepath"
	"strings"
)

// Scope decides whether paths fall outside a project directory. Paths are
// cleaned and symlink-resolved, so neither ".." nor a symlink inside the
// project can reach outside it unnoticed; a path that does not exist yet is
// resolved through its longest existing ancestor.
type Scope struct {
	dir      string // cleaned project dir as given
	resolved string // symlink-resolved project dir
}

// NewScope returns the scope of the project at dir ("" disables scope checks).
func NewScope(dir string) Scope {
	if dir == "" {
		return Scope{}
	}
	d := filepath.Clean(dir)
	return Scope{dir: d, resolved: resolve(d)}
}

// Outside reports whether p (absolute, or relative to cwd) is outside the
// project. Special device paths (/dev/null, /dev/stdout…) are never outside.
func (s Scope) Outside(p, cwd string) bool {
	if s.dir == "" || p == "" {
		return false
	}
	abs := absolute(p, cwd)
	if isHarmlessDevice(abs) {
		return false
	}
	if within(abs, s.dir) && within(resolve(abs), s.resolved) {
		return false
	}
	// A path spelled outside the project may still resolve inside it
	// (e.g. through a symlink that points in); the resolved location wins.
	return !within(resolve(abs), s.resolved)
}

func absolute(p, cwd string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p)
}

func within(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// resolve evaluates symlinks in the longest existing prefix of p and
// re-appends the rest, so a file about to be created still resolves.
func resolve(p string) string {
	rest := ""
	cur := p
	for i := 0; i < 64; i++ {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			if rest == "" {
				return r
			}
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			break
		}
		if rest == "" {
			rest = filepath.Base(cur)
		} else {
			rest = filepath.Join(filepath.Base(cur), rest)
		}
		cur = parent
	}
	return p
}

func isHarmlessDevice(p string) bool {
	switch p {
	case "/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero", "/dev/random", "/dev/urandom":
		return true
	}
	return strings.HasPrefix(p, "/dev/fd/")
}

// Sensitive kinds reported in security_flags.sensitive_kinds.
const (
	SensitivePrivateKey  = "private_key"
	SensitiveSSH         = "ssh"
	SensitiveCloud       = "cloud_credentials"
	SensitiveKube        = "kube_config"
	SensitiveDotenv      = "dotenv"
	SensitiveCredentials = "credentials_file"
	SensitiveShellRC     = "shell_rc"
	SensitiveBrowser     = "browser_profile"
	SensitiveKeyring     = "keyring"
	SensitiveSystemAuth  = "system_auth"
	SensitiveAgentConfig = "agent_settings"
	SensitiveVigil       = "vigil_data"
)

// SensitiveKind classifies a cleaned absolute path, returning "" when it is
// not sensitive. home is the agent user's home directory.
func SensitiveKind(p, home string) string {
	base := filepath.Base(p)
	lower := strings.ToLower(p)
	rel := ""
	if home != "" && within(p, home) && p != home {
		rel = p[len(strings.TrimSuffix(home, "/"))+1:]
	}
	switch {
	case p == "/etc/shadow" || p == "/etc/gshadow" || p == "/etc/sudoers" || strings.HasPrefix(p, "/etc/sudoers.d/") ||
		p == "/etc/master.passwd" || strings.HasPrefix(p, "/etc/security/opasswd"):
		return SensitiveSystemAuth
	case strings.HasPrefix(base, "id_") && !strings.HasSuffix(base, ".pub") && strings.Contains(p, "/.ssh/"),
		base == "id_rsa", base == "id_ed25519", base == "id_ecdsa", base == "id_dsa",
		strings.HasSuffix(base, ".pem") && !strings.Contains(lower, "cert"), strings.HasSuffix(base, ".key"),
		strings.HasSuffix(base, ".p12"), strings.HasSuffix(base, ".pfx"), strings.HasSuffix(base, ".ppk"),
		strings.HasPrefix(p, "/etc/ssh/ssh_host_") && !strings.HasSuffix(base, ".pub"):
		return SensitivePrivateKey
	case strings.Contains(p, "/.ssh/") || strings.HasSuffix(p, "/.ssh"):
		return SensitiveSSH
	case strings.Contains(p, "/.aws/") || strings.Contains(p, "/.config/gcloud/") || strings.Contains(p, "/.azure/") ||
		strings.Contains(p, "/.oci/") || strings.Contains(p, "/.config/doctl/") || base == "application_default_credentials.json" ||
		strings.Contains(p, "/.terraform.d/credentials") || strings.Contains(p, "/.docker/config.json"):
		return SensitiveCloud
	case strings.Contains(p, "/.kube/") || base == "kubeconfig" || strings.HasSuffix(base, ".kubeconfig"):
		return SensitiveKube
	case isDotenv(base):
		return SensitiveDotenv
	case base == ".netrc" || base == "_netrc" || base == ".git-credentials" || base == ".pgpass" || base == ".my.cnf" ||
		base == ".npmrc" || base == ".pypirc" || base == ".vault-token" || strings.HasSuffix(p, "/.config/gh/hosts.yml") ||
		strings.HasSuffix(p, "/.config/hub") || base == "credentials.json" || base == ".htpasswd" ||
		strings.Contains(p, "/.password-store/") || strings.HasSuffix(base, ".kdbx"):
		return SensitiveCredentials
	case isShellRC(base, rel):
		return SensitiveShellRC
	case strings.Contains(p, "/.mozilla/firefox/") || strings.Contains(p, "/.config/google-chrome") ||
		strings.Contains(p, "/.config/chromium") || strings.Contains(p, "/.config/BraveSoftware") ||
		strings.Contains(p, "/Library/Application Support/Google/Chrome") || strings.Contains(p, "/Library/Application Support/Firefox") ||
		base == "Login Data" || base == "logins.json" || base == "key4.db" || base == "Cookies" || base == "cookies.sqlite":
		return SensitiveBrowser
	case strings.Contains(p, "/.local/share/keyrings") || strings.Contains(p, "/.gnupg/") || strings.HasSuffix(p, "/.gnupg") ||
		strings.Contains(p, "/Library/Keychains/"):
		return SensitiveKeyring
	case strings.HasSuffix(p, "/.claude/settings.json") || strings.HasSuffix(p, "/.claude/settings.local.json") ||
		strings.HasSuffix(p, "/.claude.json"):
		return SensitiveAgentConfig
	case strings.Contains(p, "/.local/share/vigil") || strings.Contains(p, "/.config/vigil"):
		return SensitiveVigil
	}
	return ""
}

func isDotenv(base string) bool {
	if base != ".env" && !strings.HasPrefix(base, ".env.") && !strings.HasSuffix(base, ".env") {
		return false
	}
	for _, safe := range []string{"example", "sample", "template", "dist", "defaults"} {
		if strings.HasSuffix(base, "."+safe) {
			return false
		}
	}
	return true
}

func isShellRC(base, rel string) bool {
	switch base {
	case ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin",
		".kshrc", ".cshrc", ".tcshrc", ".inputrc":
		return true
	}
	return rel == ".config/fish/config.fish" || strings.HasPrefix(rel, ".config/fish/conf.d/") ||
		strings.HasPrefix(rel, ".oh-my-zsh/custom/")
}

// homeFromTranscript derives the agent user's home from Claude Code's
// transcript path (HOME/.claude/projects/...), which is right even when
// payloads are replayed on another machine.
func homeFromTranscript(tp string) string {
	if i := strings.Index(tp, "/.claude/"); i > 0 {
		return tp[:i]
	}
	return ""
}

// gitRoot walks up from dir to the nearest folder holding .git. It only
// stats, so it costs a few syscalls and never runs git.
func gitRoot(dir string) string {
	if dir == "" || !filepath.IsAbs(dir) {
		return ""
	}
	d := filepath.Clean(dir)
	for i := 0; i < 64; i++ {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
	return ""
}
