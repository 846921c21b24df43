package rules

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// ReplayLine is one payload line of a replayed file and what the rules made
// of it.
type ReplayLine struct {
	File    string
	Line    int // 1-based
	Event   *event.Event
	Matches []Match
	// Err is set for a line that is not a hook payload; Event is then the
	// hook_error event the hook would have recorded.
	Err error
}

// Replayer runs raw hook payloads (one JSON object per line, as the hook
// receives them) through normalisation and the rules, offline.
type Replayer struct {
	Engine *Engine
	Norm   *event.Normalizer
	// MaxLine is the longest line accepted (default 16 MiB); longer lines
	// are reported and skipped.
	MaxLine int
	clock   time.Time
}

// NewReplayer returns a Replayer whose events get synthetic timestamps one
// second apart (payloads carry none), starting at start.
func NewReplayer(e *Engine, start time.Time) *Replayer {
	r := &Replayer{Engine: e, MaxLine: 16 << 20, clock: start}
	r.Norm = event.NewNormalizer(event.Options{Now: r.now})
	return r
}

func (r *Replayer) now() time.Time { return r.clock }

// Run replays one file's lines, calling fn for every line, in order.
// Malformed lines are reported to fn with Err set and never stop the run.
func (r *Replayer) Run(file string, in io.Reader, fn func(ReplayLine)) error {
	br := bufio.NewReaderSize(in, 64<<10)
	n := 0
	for {
		line, tooLong, err := readLine(br, r.MaxLine)
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("read %s: %w", file, err)
		}
		n++
		r.clock = r.clock.Add(time.Second)
		if tooLong {
			fn(ReplayLine{File: file, Line: n, Err: fmt.Errorf("line longer than %d bytes, skipped", r.MaxLine)})
			continue
		}
		if strings.TrimSpace(string(line)) == "" {
			continue
		}
		rl := ReplayLine{File: file, Line: n}
		ev, nerr := r.Norm.Normalize(line)
		if nerr != nil {
			rl.Err = nerr
			rl.Event = r.Norm.HookError(line, nerr)
			fn(rl)
			continue
		}
		rl.Event = ev
		rl.Matches = r.Engine.EvaluateInput(Input{Event: ev, Content: r.Engine.ScanPayload(ev, line)})
		fn(rl)
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads one '\n'-terminated line, keeping at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, bool, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			tooLong = true
		} else {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(buf) > 0 && buf[len(buf)-1] == '\n' {
			buf = buf[:len(buf)-1]
		}
		return buf, tooLong, err
	}
}

// ScanPayload computes content facts for a Write, Edit, MultiEdit or
// NotebookEdit from its raw hook payload: what the hook would attach to the
// event (see ContentFacts). It returns nil for other events.
func (e *Engine) ScanPayload(ev *event.Event, raw []byte) *ContentFacts {
	switch ev.ToolName {
	case "Write", "Edit", "MultiEdit", "NotebookEdit":
	default:
		return nil
	}
	var p struct {
		ToolInput struct {
			Content   string `json:"content"`
			OldString string `json:"old_string"`
			NewString string `json:"new_string"`
			NewSource string `json:"new_source"`
			Edits     []struct {
				OldString string `json:"old_string"`
				NewString string `json:"new_string"`
			} `json:"edits"`
		} `json:"tool_input"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return nil
	}
	ti := p.ToolInput
	text, old := ti.Content+ti.NewString+ti.NewSource, ti.OldString
	for _, ed := range ti.Edits {
		text += "\n" + ed.NewString
		old += "\n" + ed.OldString
	}
	return e.ScanContent(ev, text, old)
}
