package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

const tailUsage = `Usage: vigil tail [-f] [-n N] [filters] [LOGQL]

Prints the last N matching events, oldest first; with -f keeps printing new
ones as serve stores them, until interrupted. Takes the same filters as
vigil query.

Flags:`

// tailPoll is how often -f looks for new events.
const tailPoll = 200 * time.Millisecond

func runTail(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "tail")
	var qf queryFlags
	qf.register(fs)
	follow := fs.Bool("f", false, "follow: keep printing new events")
	n := fs.Int("n", 10, "print the last `N` events first")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	fs.Usage = func() { fmt.Fprintln(env.Stderr, tailUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if *n < 0 {
		return fmt.Errorf("%w: -n must be >= 0", ErrUsage)
	}
	f, path, err := qf.filter(env, fs.Args())
	if err != nil {
		return err
	}
	s, err := openStoreReadOnly(path)
	if err != nil {
		return err
	}
	defer s.Close()
	w := newEventWriter(env.Stdout, *format)
	// The cursor starts at the head, so -f never prints an event twice and
	// never misses one stored after the first read.
	st, err := s.Stats(ctx)
	if err != nil {
		return err
	}
	last := st.LastSeq
	if *n > 0 {
		first := f
		first.Limit, first.Order = *n, store.NewestFirst
		first.BeforeSeq = last + 1
		rows, err := s.Query(ctx, first)
		if err != nil {
			return err
		}
		slices.Reverse(rows)
		for i := range rows {
			if err := w.write(&rows[i]); err != nil {
				return err
			}
		}
	}
	if err := w.flush(); err != nil || !*follow {
		return err
	}
	t := time.NewTicker(tailPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for {
			// Read up to the current head in pages; advance the cursor by
			// the head, not by the last match, so non-matching events are
			// not scanned again.
			st, err := s.Stats(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			head := min(st.LastSeq, last+5000)
			if head <= last {
				break
			}
			page := f
			page.AfterSeq, page.BeforeSeq, page.Order, page.Limit = last, head+1, store.OldestFirst, 0
			rows, err := s.Query(ctx, page)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for i := range rows {
				if err := w.write(&rows[i]); err != nil {
					return err
				}
			}
			if err := w.flush(); err != nil {
				return err
			}
			last = head
		}
	}
}
