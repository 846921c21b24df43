// Package hook is what Claude Code runs for every hook event: read one
// payload from stdin, normalise it, decide (PreToolUse), append it to the
// spool and answer. It sits in the agent's critical path, so it never
// panics out, never waits on the network, never prints anything but a
// decision on stdout, and exits 0 unless the user chose fail-closed
// enforcement.
package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/event"
)

// Appender is where events go: the spool.
type Appender interface {
	Append(line []byte) error
}

// Decider evaluates block/ask rules on a PreToolUse event. It returns nil
// when no rule matched.
type Decider func(ev *event.Event) (*event.Decision, error)

// Options configure one hook run.
type Options struct {
	Normalizer *event.Normalizer
	Spool      Appender
	// Decide, when set, is consulted for PreToolUse events.
	Decide Decider
	// Enrich, when set, adds facts to a PreToolUse event from its raw
	// payload before Decide runs (e.g. what written content would do).
	Enrich func(ev *event.Event, raw []byte)
	// Disabled reports whether recording is switched off for a project dir
	// (the per-project marker or the global switch).
	Disabled func(projectDir string) bool
	// Enforcement is config.ModeMonitor or config.ModeEnforce.
	Enforcement string
	// FailMode is config.FailOpen or config.FailClosed.
	FailMode string
	// MaxInput is the most stdin read; more is an error (default 8 MiB).
	MaxInput int64
	// ReadTimeout bounds waiting for stdin (default 5 s).
	ReadTimeout time.Duration
	// Log receives Vigil's own diagnostics (never stdout).
	Log *slog.Logger
}

// Result is what a run did, for callers and tests.
type Result struct {
	Event    *event.Event
	Output   []byte // what was written to stdout
	ExitCode int
	Err      error // the first problem met, already logged
}

// Output is Claude Code's hook JSON output for a PreToolUse decision.
type Output struct {
	HookSpecificOutput *SpecificOutput `json:"hookSpecificOutput,omitempty"`
}

// SpecificOutput carries permissionDecision for PreToolUse.
type SpecificOutput struct {
	HookEventName            string `json:"hookEventName"`
	PermissionDecision       string `json:"permissionDecision"`
	PermissionDecisionReason string `json:"permissionDecisionReason,omitempty"`
}

// Run handles one hook invocation. It always returns; panics are turned
// into a hook_error.
func Run(ctx context.Context, o Options, stdin io.Reader, stdout io.Writer) (res Result) {
	if o.MaxInput <= 0 {
		o.MaxInput = 8 << 20
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("hook panic: %v", p)
			o.Log.Error("hook panicked; recording hook_error", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res = Result{Err: err}
			ev := o.Normalizer.HookError(nil, err)
			_ = o.append(ev)
		}
	}()

	raw, readErr := readInput(ctx, stdin, o.MaxInput, o.ReadTimeout)
	var ev *event.Event
	var normErr error
	if readErr != nil {
		normErr = readErr
	} else {
		ev, normErr = o.Normalizer.Normalize(raw)
	}
	if normErr != nil {
		ev = o.Normalizer.HookError(raw, normErr)
		o.Log.Error("bad hook input; recorded hook_error", "reason", normErr.Error(), "bytes", len(raw), "event_id", ev.ID)
		res.Err = normErr
	}
	if ev.ProjectDir != "" && o.Disabled != nil && o.Disabled(ev.ProjectDir) {
		return res // switched off: record nothing, say nothing
	}
	res.Event = ev

	// An oversized field is recorded twice: the event itself (cut, so rules
	// still see it) and a hook_error saying what was cut and why.
	if normErr == nil && len(ev.Truncated) > 0 && hasOversizedInput(raw, ev) {
		he := o.Normalizer.HookError(nil, fmt.Errorf("oversized input (%d bytes): fields cut to their caps: %v", len(raw), ev.Truncated))
		he.SessionID, he.HookEvent, he.ToolName, he.ToolUseID = ev.SessionID, ev.HookEvent, ev.ToolName, ev.ToolUseID
		he.Project, he.ProjectDir, he.Cwd = ev.Project, ev.ProjectDir, ev.Cwd
		he.HookError.InputBytes = len(raw)
		o.Log.Warn("oversized hook input; fields cut", "bytes", len(raw), "fields", ev.Truncated, "event_id", ev.ID)
		if err := o.append(he); err != nil {
			o.Log.Error("spool append failed", "err", err.Error(), "event_id", he.ID)
		}
	}

	var out []byte
	if normErr == nil && ev.HookEvent == "PreToolUse" && o.Enrich != nil {
		o.Enrich(ev, raw)
	}
	if normErr == nil && ev.HookEvent == "PreToolUse" && o.Decide != nil {
		out = o.decide(ev)
	}
	if normErr != nil && o.failClosed() && isPreToolUse(ev) {
		// Fail-closed: input we cannot understand is not allowed to run.
		ev.Decision = &event.Decision{Action: event.DecisionDeny, Rule: "vigil.fail_closed",
			Reason: "Vigil could not read this hook input and fail-closed enforcement is on", Mode: config.ModeEnforce}
		out = denyOutput(ev.Decision)
	}

	if err := o.append(ev); err != nil {
		o.Log.Error("spool append failed; event not recorded", "err", err.Error(), "event_id", ev.ID, "hook_event", ev.HookEvent)
		if res.Err == nil {
			res.Err = err
		}
		if o.failClosed() && isPreToolUse(ev) && out == nil {
			ev.Decision = &event.Decision{Action: event.DecisionDeny, Rule: "vigil.fail_closed",
				Reason: "Vigil could not record this action and fail-closed enforcement is on: " + err.Error(), Mode: config.ModeEnforce}
			out = denyOutput(ev.Decision)
		}
	}
	if len(out) > 0 {
		if _, err := stdout.Write(out); err != nil {
			o.Log.Error("write decision to stdout", "err", err.Error())
		}
		res.Output = out
	}
	return res
}

func (o Options) failClosed() bool {
	return o.Enforcement == config.ModeEnforce && o.FailMode == config.FailClosed
}

func isPreToolUse(ev *event.Event) bool {
	return ev != nil && (ev.HookEvent == "PreToolUse" || ev.HookEvent == "")
}

func hasOversizedInput(raw []byte, ev *event.Event) bool {
	for _, f := range ev.Truncated {
		switch f {
		case "action_details.paths", "action_details.programs", "shell_analysis":
			continue
		}
		return true
	}
	return false
}

// decide consults the rules and returns the stdout answer (nil: none).
func (o Options) decide(ev *event.Event) []byte {
	d, err := o.Decide(ev)
	if err != nil {
		o.Log.Error("rule evaluation failed", "err", err.Error(), "event_id", ev.ID)
		if o.failClosed() {
			ev.Decision = &event.Decision{Action: event.DecisionDeny, Rule: "vigil.fail_closed",
				Reason: "Vigil could not evaluate its rules and fail-closed enforcement is on", Mode: config.ModeEnforce}
			return denyOutput(ev.Decision)
		}
		return nil
	}
	if d == nil || d.Action == "" || d.Action == event.DecisionAllow {
		return nil
	}
	if o.Enforcement != config.ModeEnforce {
		switch d.Action {
		case event.DecisionDeny:
			d.Action = event.DecisionWouldDeny
		case event.DecisionAsk:
			d.Action = event.DecisionWouldAsk
		}
		d.Mode = config.ModeMonitor
		ev.Decision = d
		return nil
	}
	d.Mode = config.ModeEnforce
	ev.Decision = d
	switch d.Action {
	case event.DecisionDeny:
		return denyOutput(d)
	case event.DecisionAsk:
		return decisionOutput("ask", d)
	}
	return nil
}

func denyOutput(d *event.Decision) []byte { return decisionOutput("deny", d) }

func decisionOutput(action string, d *event.Decision) []byte {
	reason := "Vigil"
	if d.Rule != "" {
		reason += " rule " + d.Rule
	}
	if d.Reason != "" {
		reason += ": " + d.Reason
	}
	b, err := json.Marshal(Output{HookSpecificOutput: &SpecificOutput{
		HookEventName: "PreToolUse", PermissionDecision: action, PermissionDecisionReason: reason,
	}})
	if err != nil {
		return nil
	}
	return append(b, '\n')
}

func (o Options) append(ev *event.Event) error {
	return o.Spool.Append(ev.AppendJSON(make([]byte, 0, 2048)))
}

// ErrInputTooLarge is reported for stdin over the input cap.
var ErrInputTooLarge = errors.New("hook input too large")

// ErrReadTimeout is reported when stdin is not closed in time.
var ErrReadTimeout = errors.New("timed out reading hook input")

func readInput(ctx context.Context, r io.Reader, max int64, timeout time.Duration) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, max+1))
		ch <- result{b, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return r.b, fmt.Errorf("read stdin: %w", r.err)
		}
		if int64(len(r.b)) > max {
			return r.b[:max], fmt.Errorf("%w: more than %d bytes", ErrInputTooLarge, max)
		}
		return r.b, nil
	case <-t.C:
		return nil, fmt.Errorf("%w after %s", ErrReadTimeout, timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
