package store

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// The corpus in testdata/corpus (copied from ../shared/corpus) gives the
// generator realistic shapes: real commands, paths, prompts and tool mixes.
// This is a deliberately small stand-in for the real normaliser (package
// event): the store only needs events that look and weigh like real ones.

type payload map[string]any

func (p payload) str(k string) string  { s, _ := p[k].(string); return s }
func (p payload) obj(k string) payload { m, _ := p[k].(map[string]any); return m }

// loadCorpus reads every session file; tb may be nil in benchmarks' setup.
func loadCorpus(tb testing.TB) [][]payload {
	tb.Helper()
	files, err := filepath.Glob("testdata/corpus/*.jsonl")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus in testdata/corpus: %v", err)
	}
	sort.Strings(files)
	var out [][]payload
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		var sess []payload
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			var p payload
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			sess = append(sess, p)
		}
		fh.Close()
		out = append(out, sess)
	}
	return out
}

func digest(v any) *event.Digest {
	var b []byte
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	s := sha256.Sum256(b)
	return &event.Digest{Bytes: len(b), SHA256: hex.EncodeToString(s[:])}
}

var typeOfTool = map[string]string{
	"Read": event.TypeFileRead, "Write": event.TypeFileWrite, "Edit": event.TypeFileEdit, "MultiEdit": event.TypeFileEdit,
	"Bash": event.TypeCommand, "Grep": event.TypeCodeSearch, "Glob": event.TypeFileSearch, "LS": event.TypeDirList,
	"TodoWrite": event.TypeTask, "Task": event.TypeSubAgent, "WebFetch": event.TypeWebFetch, "WebSearch": event.TypeWebSearch,
	"NotebookEdit": event.TypeNotebook,
}

var typeOfHook = map[string]string{
	"SessionStart": event.TypeSessionStart, "SessionEnd": event.TypeSessionEnd, "UserPromptSubmit": event.TypeUserPrompt,
	"Stop": event.TypeStop, "SubagentStart": event.TypeSubagentStart, "SubagentStop": event.TypeSubagentStop,
	"Notification": event.TypeNotification, "PreCompact": event.TypePreCompact, "PermissionRequest": event.TypePermission,
	"PostToolUseFailure": event.TypeToolFailure,
}

// toEvent maps one corpus payload to a v3 event.
func toEvent(p payload, project, dir string) event.Event {
	e := event.Event{
		SchemaVersion: event.SchemaVersion, Agent: event.Agent, Project: project, ProjectDir: dir,
		Cwd: dir, SessionID: p.str("session_id"), TranscriptPath: p.str("transcript_path"),
		AgentID: p.str("agent_id"), AgentType: p.str("agent_type"), HookEvent: p.str("hook_event_name"),
		ToolName: p.str("tool_name"), ToolUseID: p.str("tool_use_id"), PermissionMode: p.str("permission_mode"),
		Security: event.Security{Redactions: []string{}},
	}
	switch {
	case e.ToolName != "" && e.HookEvent != "PostToolUseFailure":
		e.EventType = typeOfTool[e.ToolName]
		if e.EventType == "" {
			e.EventType = event.TypeToolUsage
			if strings.HasPrefix(e.ToolName, "mcp__") {
				e.EventType = event.TypeMCP
			}
		}
	default:
		e.EventType = typeOfHook[e.HookEvent]
		if e.EventType == "" {
			e.EventType = event.TypeUnknown
		}
	}
	in := p.obj("tool_input")
	a := &e.Action
	a.Command, a.Description = in.str("command"), in.str("description")
	a.FilePath, a.Pattern, a.Glob = in.str("file_path"), in.str("pattern"), in.str("glob")
	a.URL, a.Query = in.str("url"), in.str("query")
	if a.URL != "" {
		a.Domain = strings.Split(strings.TrimPrefix(strings.TrimPrefix(a.URL, "https://"), "http://"), "/")[0]
	}
	a.Prompt = p.str("prompt") + in.str("prompt")
	a.SubagentType = in.str("subagent_type")
	a.Content = digest(in["content"])
	if in["old_string"] != nil {
		a.OldString, a.NewString = digest(in["old_string"]), digest(in["new_string"])
	}
	if a.FilePath != "" {
		a.Paths = []string{a.FilePath}
	}
	if a.Command != "" {
		a.Programs = []string{strings.Fields(a.Command + " x")[0]}
		for _, f := range strings.Fields(a.Command) {
			if strings.HasPrefix(f, "/") || strings.HasPrefix(f, "~") {
				a.Paths = append(a.Paths, f)
			}
		}
	}
	if strings.HasPrefix(e.ToolName, "mcp__") {
		parts := strings.SplitN(e.ToolName, "__", 3)
		if len(parts) == 3 {
			a.MCPServer, a.MCPTool = parts[1], parts[2]
		}
		a.Input, _ = json.Marshal(in)
	}
	a.Source, a.Model, a.Reason, a.Trigger = p.str("source"), p.str("model"), p.str("reason"), p.str("trigger")
	a.NotificationType, a.Message, a.Title = p.str("notification_type"), p.str("message"), p.str("title")
	if r := p["tool_response"]; r != nil {
		resp := &event.Response{}
		if m, ok := r.(map[string]any); ok {
			rp := payload(m)
			resp.Stdout, resp.Stderr = digest(rp["stdout"]), digest(rp["stderr"])
			if rp["stdout"] == nil {
				resp.Result = digest(r)
			}
		} else {
			resp.Result = digest(r)
		}
		a.Response = resp
		e.Outcome = &event.Outcome{Success: true}
	}
	if e.HookEvent == "PostToolUseFailure" {
		e.Outcome = &event.Outcome{Success: false, Error: p.str("error")}
	}
	if e.HookEvent == "PreToolUse" {
		e.Decision = &event.Decision{Action: event.DecisionAllow, Mode: "monitor"}
	}
	for _, path := range a.Paths {
		if !strings.HasPrefix(path, dir) {
			e.Security.OutsideProjectScope = true
			e.Security.OutsidePaths = append(e.Security.OutsidePaths, path)
		}
		if strings.Contains(path, ".ssh") || strings.Contains(path, ".aws") || strings.HasSuffix(path, ".env") {
			e.Security.SensitivePath = true
			e.Security.SensitivePaths = append(e.Security.SensitivePaths, path)
		}
	}
	if strings.Contains(a.Command, "password") || strings.Contains(a.Command, "TOKEN") {
		e.Security.Redactions = []string{"password_assignment"}
	}
	return e
}

// generator replays the corpus sessions over and over with fresh session
// ids, ids, hosts and timestamps.
type generator struct {
	sessions [][]payload
	rng      *rand.Rand
	t        time.Time
	step     time.Duration
	n        int
	buf      []Record
}

func newGenerator(tb testing.TB, start time.Time, step time.Duration) *generator {
	return &generator{sessions: loadCorpus(tb), rng: rand.New(rand.NewPCG(1, 2)), t: start, step: step}
}

func uuidLike(rng *rand.Rand, t time.Time) string {
	ms := uint64(t.UnixMilli())
	return fmt.Sprintf("%08x-%04x-7%03x-%04x-%012x", ms>>16, ms&0xffff, rng.IntN(1<<12), 0x8000|rng.IntN(1<<14), rng.Uint64()&(1<<48-1))
}

// session returns the records of one replayed session.
func (g *generator) session() []Record {
	sess := g.sessions[g.rng.IntN(len(g.sessions))]
	sid := uuidLike(g.rng, g.t)
	host := fmt.Sprintf("dev-%02d", g.rng.IntN(8))
	user := fmt.Sprintf("user%d", g.rng.IntN(12))
	cwd := payload(sess[0]).str("cwd")
	project := filepath.Base(cwd)
	out := g.buf[:0]
	for _, p := range sess {
		e := toEvent(p, project, cwd)
		e.SessionID = sid
		e.TranscriptPath = strings.ReplaceAll(e.TranscriptPath, p.str("session_id"), sid)
		e.Host, e.User = host, user
		e.Timestamp = g.t
		e.ID = uuidLike(g.rng, g.t)
		g.t = g.t.Add(g.step)
		g.n++
		ev := e
		js, err := json.Marshal(&ev)
		if err != nil {
			panic(err)
		}
		out = append(out, Record{Event: &ev, JSON: js})
	}
	g.buf = out[:0:0]
	return out
}

// records returns exactly n records.
func (g *generator) records(n int) []Record {
	var out []Record
	for len(out) < n {
		out = append(out, g.session()...)
	}
	return out[:n]
}
