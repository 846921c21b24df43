package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-sec/vigil/internal/event"
)

// Event lines are stored zstd-compressed against a raw-content dictionary
// (about 3.4× smaller than plain JSON at the fastest level, which is what keeps a million events
// well under the disk budget). Row.JSON is always the original line, byte
// for byte, and the chain hashes the original line, not the stored bytes.
//
// The dictionary is written into the database (table dicts) when the store
// is created and read back from there on every open, so a later change of
// the template below never makes old rows unreadable. A stored value that
// does not start with the zstd frame magic is a plain JSON line: rows
// written without compression (tiny lines) stay readable as they are.

// dictID is the zstd dictionary id of the first (and so far only)
// dictionary. A new dictionary must get a new id.
const dictID = 1

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// minCompress is the shortest line worth compressing.
const minCompress = 64

type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// loadCodec reads the dictionaries from the database, creating the first
// one when the store is new (writer only).
func loadCodec(ctx context.Context, w, r *sql.DB) (*codec, error) {
	db := r
	if w != nil {
		db = w
		var n int
		if err := w.QueryRowContext(ctx, `SELECT count(*) FROM dicts WHERE id = ?`, dictID).Scan(&n); err != nil {
			return nil, fmt.Errorf("read dictionary: %w", err)
		}
		if n == 0 {
			if _, err := w.ExecContext(ctx, `INSERT INTO dicts(id, content) VALUES (?, ?)`, dictID, dictTemplate()); err != nil {
				return nil, fmt.Errorf("write dictionary: %w", err)
			}
		}
	}
	var content []byte
	err := db.QueryRowContext(ctx, `SELECT content FROM dicts WHERE id = ?`, dictID).Scan(&content)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read dictionary: %w", err)
	}
	var eopts []zstd.EOption
	dopts := []zstd.DOption{zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64 << 20)}
	if len(content) > 0 {
		eopts = append(eopts, zstd.WithEncoderDictRaw(dictID, content))
		dopts = append(dopts, zstd.WithDecoderDictRaw(dictID, content))
	}
	eopts = append(eopts, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false), zstd.WithZeroFrames(true), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<17))
	enc, err := zstd.NewWriter(nil, eopts...)
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, dopts...)
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return &codec{enc: enc, dec: dec}, nil
}

func (c *codec) close() {
	if c == nil {
		return
	}
	c.enc.Close()
	c.dec.Close()
}

// encode returns the stored form of a JSON line, appended to dst.
func (c *codec) encode(dst, line []byte) []byte {
	if len(line) < minCompress {
		return append(dst, line...)
	}
	return c.enc.EncodeAll(line, dst)
}

// encodeAll returns the stored form of every record's line. (Spreading
// it over goroutines did not pay on the 2-core box: no core is idle
// during ingest.)
func (c *codec) encodeAll(recs []Record) [][]byte {
	out := make([][]byte, len(recs))
	for i := range recs {
		out[i] = c.encode(nil, recs[i].JSON)
	}
	return out
}

// decode returns the JSON line of a stored value, appended to dst.
func (c *codec) decode(dst, stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, zstdMagic) {
		return append(dst, stored...), nil
	}
	out, err := c.dec.DecodeAll(stored, dst)
	if err != nil {
		return dst, fmt.Errorf("decompress event: %w", err)
	}
	return out, nil
}

// dictTemplate builds the dictionary content: typical event lines of each
// kind, so keys, their order and the common values compress to a few bytes.
// Most frequent material goes last (closest to the data).
func dictTemplate() []byte {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exit := 0
	dg := &event.Digest{Bytes: 1024, SHA256: "0000000000000000000000000000000000000000000000000000000000000000"}
	base := func(hook, tool, typ string) event.Event {
		return event.Event{
			ID: "019a0000-0000-7000-8000-000000000000", SchemaVersion: event.SchemaVersion, Timestamp: ts,
			Host: "localhost", User: "dev", Agent: event.Agent, Project: "project",
			ProjectDir: "/home/dev/projects/project", Cwd: "/home/dev/projects/project",
			SessionID:      "00000000-0000-4000-8000-000000000000",
			TranscriptPath: "/home/dev/.claude/projects/-home-dev-projects-project/00000000-0000-4000-8000-000000000000.jsonl",
			HookEvent:      hook, ToolName: tool, ToolUseID: "toolu_01000000000000000000000000", EventType: typ,
			PermissionMode: "default", Security: event.Security{Redactions: []string{}},
		}
	}
	var evs []event.Event
	add := func(e event.Event) { evs = append(evs, e) }
	e := base("SessionStart", "", event.TypeSessionStart)
	e.Action.Source, e.Action.Model = "startup", "claude-sonnet-4-5"
	add(e)
	e = base("UserPromptSubmit", "", event.TypeUserPrompt)
	e.Action.Prompt = "Please fix the failing tests and run them again"
	add(e)
	add(base("Stop", "", event.TypeStop))
	e = base("Notification", "", event.TypeNotification)
	e.Action.NotificationType, e.Action.Message, e.Action.Title = "permission_prompt", "Claude needs your permission to use Bash", "Claude Code"
	add(e)
	e = base("SessionEnd", "", event.TypeSessionEnd)
	e.Action.Reason = "prompt_input_exit"
	add(e)
	e = base("PreToolUse", "WebFetch", event.TypeWebFetch)
	e.Action.URL, e.Action.Domain, e.Action.Prompt = "https://docs.example.com/", "docs.example.com", "Summarise"
	e.Decision = &event.Decision{Action: event.DecisionAllow, Mode: "monitor"}
	add(e)
	e = base("PreToolUse", "Grep", event.TypeCodeSearch)
	e.Action.Pattern, e.Action.Glob, e.Action.OutputMode = "TODO", "*.go", "files_with_matches"
	e.Decision = &event.Decision{Action: event.DecisionAllow, Mode: "monitor"}
	add(e)
	for _, tool := range []string{"Write", "Edit", "Read"} {
		typ := map[string]string{"Write": event.TypeFileWrite, "Edit": event.TypeFileEdit, "Read": event.TypeFileRead}[tool]
		for _, hook := range []string{"PreToolUse", "PostToolUse"} {
			e = base(hook, tool, typ)
			e.Action.FilePath = "/home/dev/projects/project/src/index.ts"
			e.Action.Paths = []string{e.Action.FilePath}
			switch tool {
			case "Write":
				e.Action.Content = dg
			case "Edit":
				e.Action.OldString, e.Action.NewString = dg, dg
			}
			if hook == "PostToolUse" {
				e.Action.Response = &event.Response{Result: dg}
				e.Outcome = &event.Outcome{Success: true}
			} else {
				e.Decision = &event.Decision{Action: event.DecisionAllow, Mode: "monitor"}
			}
			add(e)
		}
	}
	for _, hook := range []string{"PreToolUse", "PostToolUse"} {
		e = base(hook, "Bash", event.TypeCommand)
		e.Action.Command, e.Action.Description, e.Action.Programs = "git status && npm test", "Run the tests", []string{"git", "npm"}
		if hook == "PostToolUse" {
			e.Action.Response = &event.Response{Stdout: dg, Stderr: dg}
			e.Outcome = &event.Outcome{Success: true, ExitCode: &exit, DurationMS: 1200}
		} else {
			e.Decision = &event.Decision{Action: event.DecisionAllow, Mode: "monitor"}
		}
		add(e)
	}
	var b bytes.Buffer
	for i := range evs {
		js, err := json.Marshal(&evs[i])
		if err != nil {
			panic(fmt.Sprintf("dictionary template: %v", err)) // a programmer bug
		}
		b.Write(js)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
