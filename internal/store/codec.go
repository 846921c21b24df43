package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/vigil-sec/vigil/internal/event"
)

// Event lines are stored S2-compressed against a dictionary of typical v3
// events (about 2.8× smaller than the JSON; S2 rather than zstd because it
// compresses a line in ~1.3 µs instead of ~10 µs, which is a fifth of what
// the ingest pipeline spends on an event, for ~55 more bytes per event on
// disk). Row.JSON is always the original line, byte for byte, and the
// chain hashes the original line, not the stored bytes.
//
// A stored value says how it was written by its first bytes:
//   - 0x02: an S2 block against dictionary 2 (table dicts) follows;
//   - the zstd frame magic: zstd against the raw-content dictionary 1
//     (rows written before S2; still read, never written);
//   - anything else ('{'): the plain JSON line (lines too short to pay).
//
// The dictionaries are written into the database when the store is
// created and read back from there on every open, so a later change of the
// template (or of how the S2 library derives a dictionary from it) never
// makes old rows unreadable.

// The dictionary ids in table dicts. A new dictionary must get a new id.
const (
	zstdDictID = 1 // raw content for zstd (rows of stores from before S2)
	s2DictID   = 2 // an S2 dictionary (s2.Dict.Bytes) built from the same template
)

// s2Tag starts every S2-compressed value.
const s2Tag = 0x02

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// minCompress is the shortest line worth compressing.
const minCompress = 64

type codec struct {
	s2 *s2.Dict
	// zstd decodes rows written before S2, against zstdDict; made on the
	// first such row.
	zstdDict []byte
	zstdOnce sync.Once
	zstd     *zstd.Decoder
	zstdErr  error
}

// loadCodec reads the dictionaries from the database, creating them when
// missing (writer only).
func loadCodec(ctx context.Context, w, r *sql.DB) (*codec, error) {
	db := r
	if w != nil {
		db = w
		tmpl := dictTemplate()
		d := s2.MakeDict(tmpl, []byte(`{"id":"`))
		if d == nil {
			return nil, fmt.Errorf("make S2 dictionary: template of %d bytes", len(tmpl)) // a programmer bug
		}
		// zstd's dictionary is written too, so that a store created now
		// and opened by an older binary is still readable by it.
		for id, content := range map[int][]byte{zstdDictID: tmpl, s2DictID: d.Bytes()} {
			if _, err := w.ExecContext(ctx, `INSERT INTO dicts(id, content) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`, id, content); err != nil {
				return nil, fmt.Errorf("write dictionary %d: %w", id, err)
			}
		}
	}
	c := &codec{}
	rows, err := db.QueryContext(ctx, `SELECT id, content FROM dicts`)
	if err != nil {
		return nil, fmt.Errorf("read dictionaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var content []byte
		if err := rows.Scan(&id, &content); err != nil {
			return nil, fmt.Errorf("read dictionaries: %w", err)
		}
		switch id {
		case zstdDictID:
			c.zstdDict = content
		case s2DictID:
			if c.s2 = s2.NewDict(content); c.s2 == nil {
				return nil, fmt.Errorf("read dictionary %d: not an S2 dictionary", id)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dictionaries: %w", err)
	}
	return c, nil
}

func (c *codec) close() {
	if c != nil && c.zstd != nil {
		c.zstd.Close()
	}
}

// encode returns the stored form of a JSON line, appended to dst. A store
// opened read-only by an older schema has no S2 dictionary; it never
// encodes.
func (c *codec) encode(dst, line []byte) []byte {
	if len(line) < minCompress || c.s2 == nil {
		return append(dst, line...)
	}
	// Dict.Encode writes from the start of the slice it is given (it does
	// not append), in place when the capacity suffices, as it does here.
	n := s2.MaxEncodedLen(len(line))
	out := append(slices.Grow(dst, 1+n), s2Tag)
	enc := c.s2.Encode(out[len(out):len(out)+n], line)
	return out[:len(out)+len(enc)]
}

// encodeAll returns the stored form of every record's line. (Spreading
// it over goroutines did not pay on the 2-core box: no core is idle
// during ingest.)
func (c *codec) encodeAll(recs []Record) [][]byte {
	// The lines are compressed into a scratch buffer sized for the worst
	// case, then copied into one exact-size slab that each value is a
	// capacity-capped slice of: a prepared batch waiting for the writer
	// holds ~35 % of its JSON size instead of ~110 %.
	size := 0
	for i := range recs {
		size += 1 + s2.MaxEncodedLen(len(recs[i].JSON))
	}
	scratch := encodeScratch.Get().(*[]byte)
	buf := slices.Grow((*scratch)[:0], size)
	ends := make([]int, len(recs))
	for i := range recs {
		buf = c.encode(buf, recs[i].JSON)
		ends[i] = len(buf)
	}
	slab := slices.Clone(buf)
	if cap(buf) <= maxScratch {
		*scratch = buf
		encodeScratch.Put(scratch)
	}
	out := make([][]byte, len(recs))
	at := 0
	for i, end := range ends {
		out[i] = slab[at:end:end]
		at = end
	}
	return out
}

// encodeScratch holds encodeAll's worst-case buffers between batches; one
// larger than maxScratch (a batch of huge lines) is left to the GC.
var encodeScratch = sync.Pool{New: func() any { return new([]byte) }}

const maxScratch = 16 << 20

// decode returns the JSON line of a stored value, appended to dst.
func (c *codec) decode(dst, stored []byte) ([]byte, error) {
	switch {
	case len(stored) > 0 && stored[0] == s2Tag:
		if c.s2 == nil {
			return dst, errors.New("decompress event: S2 value but no S2 dictionary in the store")
		}
		n, err := s2.DecodedLen(stored[1:])
		if err != nil {
			return dst, fmt.Errorf("decompress event: %w", err)
		}
		out := slices.Grow(dst, n)
		dec, err := c.s2.Decode(out[len(dst):len(dst)+n], stored[1:])
		if err != nil {
			return dst, fmt.Errorf("decompress event: %w", err)
		}
		return out[:len(dst)+len(dec)], nil
	case bytes.HasPrefix(stored, zstdMagic):
		return c.decodeZstd(dst, stored)
	}
	return append(dst, stored...), nil
}

func (c *codec) decodeZstd(dst, stored []byte) ([]byte, error) {
	c.zstdOnce.Do(func() {
		opts := []zstd.DOption{zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64 << 20)}
		if len(c.zstdDict) > 0 {
			opts = append(opts, zstd.WithDecoderDictRaw(zstdDictID, c.zstdDict))
		}
		c.zstd, c.zstdErr = zstd.NewReader(nil, opts...)
	})
	if c.zstdErr != nil {
		return dst, fmt.Errorf("zstd decoder: %w", c.zstdErr)
	}
	out, err := c.zstd.DecodeAll(stored, dst)
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
