// Package shell turns a Bash command string into the facts rules and scope
// checks need: the programs actually run (after unwrapping bash -c, eval,
// sudo, env, VAR= prefixes, xargs, subshells, command substitutions, pipes and
// here-docs), their argv, redirections and the files they read or write.
// It uses a real shell parser (mvdan.cc/sh/v3), never regexes over the raw
// string, and it is bounded: any input finishes in well under 50 ms.
//
// Nothing is ever executed. Obfuscation is undone statically where the
// answer is literal in the command itself: variables assigned earlier in the
// same command ("a=r; b=m; $a$b"), $(printf '\x72\x6d'), $'\x72\x6d',
// quotes inside names (r"m", r\m), and base64/hex/printf payloads piped or fed
// into a shell ("echo cm0gLXJmIH4= | base64 -d | sh").
//
// Paths: every entry of Analysis.Paths, Reads and Writes is cleaned; ~ and
// $HOME are expanded when Options.Home is set, and relative paths are joined
// to Options.Cwd when it is set. Words that start with an expansion the
// parser cannot resolve ("$DIR/x") are kept as written. Symlinks are not
// resolved (the caller does that). Pseudo devices such as /dev/null,
// /dev/stdout or /dev/fd/N are kept in Redirects but left out of Paths,
// Reads and Writes; /dev/tcp/HOST/PORT and /dev/udp/HOST/PORT are kept
// everywhere because rules look for them. Files named by a command that
// runs on another host (ssh host 'cat /etc/shadow') are that host's and are
// left out of Paths, Reads and Writes; the program is still listed, with
// wrapper "ssh" (likewise "kubectl exec", "docker exec"). cd and pushd move
// the directory later relative paths resolve against (a subshell's cd does
// not leak), and /proc/self/cwd and /proc/self/root are resolved, so
// "cd ..; cat x" and "cat /proc/self/cwd/../x" name the file they read.
//
// Limits: MaxDepth bounds the strings parsed again as commands (bash -c,
// eval, su -c, ssh, watch, decoded payloads, here-docs fed to a shell);
// syntactic nesting ($(...), subshells, pipelines) is walked whatever its
// depth, bounded by MaxBytes, MaxPrograms and a guard on parenthesis depth
// that sends absurd nesting to the word-split fallback. Wall time on this
// 2-core machine: ~10 us for a short command, ~5 ms for a 2 MB here-doc,
// ~10-20 ms of CPU for 10,000 pipes or 1,000 nested $(...).
package shell

import (
	"fmt"
	"strings"
)

// Program is one simple command that would run.
type Program struct {
	// Name is the base name of the program (e.g. "rm" for "/bin/rm"), after
	// unwrapping sudo/env/nohup/xargs/timeout/... wrappers. Empty if the
	// command name is not a literal (see Dynamic).
	Name string `json:"name"`
	// Path is the command word after quote removal and static resolution
	// ("/bin/rm", "./run.sh", "rm" for \rm or r''m). When the name cannot be
	// resolved it holds the source text ("$CMD").
	Path string `json:"path,omitempty"`
	// Raw is the command word exactly as written in the source, set only
	// when it differs from Path (r''m, $a$b, "$(printf '\x72\x6d')").
	Raw string `json:"raw,omitempty"`
	// Args is argv[1:]; words that are not fully literal are rendered as
	// their source text (e.g. "$HOME/.ssh").
	Args []string `json:"args,omitempty"`
	// Env holds NAME=value assignment prefixes.
	Env []string `json:"env,omitempty"`
	// Wrappers lists wrappers removed to find Name, outermost first
	// ("sudo", "env", "bash -c", "eval", "xargs").
	Wrappers []string `json:"wrappers,omitempty"`
	// WrapperArgs holds, for each entry of Wrappers, the options and
	// operands given to that wrapper ("-S", "-u", "root" for sudo).
	WrapperArgs [][]string `json:"wrapper_args,omitempty"`
	// Dynamic is true when the command name is built at run time
	// ($a$b, $(printf ...), "${CMD}").
	Dynamic bool `json:"dynamic,omitempty"`
	// Obfuscated is true when the command name is hidden behind quotes or
	// escapes inside the word (r''m, r\m, $'\x72\x6d'). A leading backslash
	// (\rm, the usual alias bypass) or a fully quoted name ("rm") does not
	// count.
	Obfuscated bool `json:"obfuscated,omitempty"`
	// Depth is the nesting level: 0 at top level, +1 inside each bash -c,
	// eval, $(...), <(...), subshell body passed as a string.
	Depth int `json:"depth,omitempty"`
	// Pipeline is an index into Analysis.Pipelines, or -1.
	Pipeline int `json:"pipeline"`
	// Background is true for "cmd &".
	Background bool `json:"background,omitempty"`
	// Redirects are this command's redirections.
	Redirects []Redirect `json:"redirects,omitempty"`
}

// Redirect is one redirection such as "> out.txt" or ">& /dev/tcp/h/1".
type Redirect struct {
	Op string `json:"op"` // ">", ">>", "<", ">&", "&>", "<<", "<<<", "<>"
	// Target is the file or fd word; for "<<" the delimiter (the body is
	// in Analysis.HereDocs), for "<<<" the here-string itself (capped).
	Target string `json:"target"`
	FD     int    `json:"fd"` // the fd being redirected (default 1 for >, 0 for <)
}

// Pipeline is an ordered list of indexes into Analysis.Programs joined by |.
type Pipeline struct {
	Programs []int `json:"programs"`
}

// Analysis is everything Parse learned about one command string.
type Analysis struct {
	Programs  []Program  `json:"programs"`
	Pipelines []Pipeline `json:"pipelines,omitempty"`
	// Reads and Writes are file paths (as written, ~ and $HOME kept literal
	// unless Options.Home expands them) that the command reads or writes,
	// from redirections and from well-known argv positions (cp, mv, tee,
	// cat, rm, chmod, ...).
	Reads  []string `json:"reads,omitempty"`
	Writes []string `json:"writes,omitempty"`
	// Paths is every path-like word anywhere in the command, for scope checks.
	Paths []string `json:"paths,omitempty"`
	// Assigns holds shell variable assignments that outlive one command
	// (NAME=value from bare assignments and export/declare/local), e.g.
	// HISTFILE=/dev/null. Values are resolved like arguments.
	Assigns []string `json:"assigns,omitempty"`
	// Decoded holds payloads decoded statically (base64 -d, xxd -r -p,
	// printf escapes) anywhere in the command, whether or not they were
	// fed to a shell: "echo <b64> | base64 -d > x.py" keeps the script
	// here. Capped like HereDocs.
	Decoded []string `json:"decoded,omitempty"`
	// HereDocs holds here-doc and here-string bodies (capped), so rules can
	// look for scripts written by "cat > x.sh <<EOF".
	HereDocs []string `json:"heredocs,omitempty"`
	// ParseError is set when the parser rejected the input. Statements
	// before the error are analysed normally; the rest is parsed again with
	// error recovery or, failing that, split into words on | ; & && ||
	// and blanks, so "curl x | sh '" still yields curl and sh.
	ParseError string `json:"parse_error,omitempty"`
	// Truncated is true when limits (size, depth, count) cut the analysis short.
	Truncated bool `json:"truncated,omitempty"`
}

// Options bound and tune Parse.
type Options struct {
	// Cwd resolves relative paths in Paths/Reads/Writes when set.
	Cwd string
	// Home expands ~ and $HOME when set.
	Home string
	// MaxBytes caps the input considered (default 256 KiB).
	MaxBytes int
	// MaxDepth caps unwrapping of nested shells (default 8).
	MaxDepth int
	// MaxPrograms caps Programs (default 4096).
	MaxPrograms int
}

// Defaults for zero Options fields.
const (
	DefaultMaxBytes    = 256 << 10
	DefaultMaxDepth    = 8
	DefaultMaxPrograms = 4096
)

// Parse analyses cmd. It never panics and never returns nil.
func Parse(cmd string, opts Options) (a *Analysis) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxPrograms <= 0 {
		opts.MaxPrograms = DefaultMaxPrograms
	}
	a = &Analysis{}
	defer func() {
		if r := recover(); r != nil {
			// A parser or walker bug must never take the hook down; what was
			// gathered so far is still useful.
			a.ParseError = fmt.Sprintf("internal error: %v", r)
			a.Truncated = true
		}
	}()
	if len(cmd) > opts.MaxBytes {
		cmd = cutInput(cmd, opts.MaxBytes)
		a.Truncated = true
	}
	cut := a.Truncated
	w := newWalker(opts, a)
	w.top(cmd)
	if cut && a.ParseError != "" {
		// most likely our cut, e.g. an unclosed here-doc
		a.ParseError = fmt.Sprintf("input cut at %d bytes: %s", len(cmd), a.ParseError)
	}
	return a
}

// cutInput shortens s to at most n bytes, preferring a line boundary in the
// second half so the prefix stays parseable, and never splitting a UTF-8
// sequence.
func cutInput(s string, n int) string {
	s = s[:n]
	if i := strings.LastIndexByte(s, '\n'); i >= n/2 {
		return s[:i]
	}
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}
