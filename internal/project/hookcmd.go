package project

import (
	"path/filepath"
	"strings"
)

// Claude Code's hook configuration, as documented in its hooks reference
// (docs.claude.com/docs/claude-code/hooks) and checked against published
// settings files:
//
//	{"hooks": {"<EventName>": [
//	    {"matcher": "<tool pattern>", "hooks": [
//	        {"type": "command", "command": "<run by a shell>", "timeout": <seconds>}]}]}}
//
// The matcher is a case-sensitive tool-name pattern ("Write", "Edit|Write",
// a regex); "*", "" or no matcher matches everything. Events without
// matcher support (UserPromptSubmit, Stop) ignore it, so "*" is harmless
// there too and we write it everywhere: one shape is easier to recognise
// and remove. The command string is run by a shell with the hook payload
// on stdin. A hook answers on stdout with exit 0 and optional JSON, for
// PreToolUse {"hookSpecificOutput": {"hookEventName": "PreToolUse",
// "permissionDecision": "allow"|"deny"|"ask", "permissionDecisionReason":
// "..."}}; exit code 2 blocks and shows stderr to Claude. The default
// timeout is long (60 s and more), so we set our own.

// HookEvents are the Claude Code events Vigil registers for.
var HookEvents = []string{
	"SessionStart", "SessionEnd", "UserPromptSubmit",
	"PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest",
	"Notification", "Stop", "SubagentStart", "SubagentStop", "PreCompact",
}

// HookMatcher is the matcher of every group Vigil writes.
const HookMatcher = "*"

// HookTimeout is the timeout (seconds) Vigil asks Claude Code to enforce on
// its hook. The hook takes milliseconds; this only bounds a wedged disk.
const HookTimeout = 10

// HookCommand is the command string connect writes:
//
//	'/abs/path/vigil' hook
//	VIGIL_HOME='/abs/home' '/abs/path/vigil' hook   (when home != "")
//
// Both paths are single-quoted for a POSIX shell, so spaces, $ and quotes
// in them are taken literally.
func HookCommand(bin, home string) string {
	s := shellQuote(bin) + " hook"
	if home != "" {
		s = "VIGIL_HOME=" + shellQuote(home) + " " + s
	}
	return s
}

// HookCmd is a parsed hook command string.
type HookCmd struct {
	Bin  string // the program
	Home string // VIGIL_HOME assignment, if any
}

// ParseHookCommand recognises a command string that runs Vigil's hook: an
// optional VIGIL_HOME=... assignment, then a program, then the single
// argument "hook". Quoting is undone as a POSIX shell would for single
// quotes, double quotes and backslashes. isSelf decides whether a program
// path is Vigil; a program whose base name starts with "vigil" always is,
// so entries written by another copy of the binary are still found.
func ParseHookCommand(cmd string, isSelf func(bin string) bool) (HookCmd, bool) {
	words, ok := shellSplit(cmd)
	if !ok || len(words) < 2 || words[len(words)-1] != "hook" {
		return HookCmd{}, false
	}
	var hc HookCmd
	words = words[:len(words)-1]
	for len(words) > 1 {
		k, v, found := strings.Cut(words[0], "=")
		if !found || k != "VIGIL_HOME" {
			return HookCmd{}, false
		}
		hc.Home = v
		words = words[1:]
	}
	hc.Bin = words[0]
	if strings.HasPrefix(filepath.Base(hc.Bin), "vigil") || (isSelf != nil && isSelf(hc.Bin)) {
		return hc, true
	}
	return HookCmd{}, false
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellSplit splits s into words the way a POSIX shell would for plain
// words and quoting. Anything it does not model (operators, expansions,
// comments) makes it report false: such a command is not ours.
func shellSplit(s string) ([]string, bool) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '\\':
					if i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
						i++
					}
				case '$', '`':
					return nil, false
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, false
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) {
				return nil, false
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>()$`#*?[~{}", c) >= 0:
			return nil, false
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}
