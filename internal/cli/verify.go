package cli

import (
	"context"
	"fmt"
)

const verifyUsage = `Usage: vigil verify [--db FILE]

Recomputes the store's hash chain and reports the first row that was
altered, removed or reordered. Exits 1 when the chain is broken.

Flags:`

func runVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "verify")
	db := fs.String("db", "", "store `file` (default: the configured store)")
	fs.Usage = func() { fmt.Fprintln(env.Stderr, verifyUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: verify takes no arguments", ErrUsage)
	}
	path := *db
	if path == "" {
		cfg, err := env.LoadConfig()
		if err != nil {
			return err
		}
		path = cfg.Store.Path
	}
	s, err := openStoreReadOnly(path)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := s.Verify(ctx)
	if err != nil {
		return err
	}
	if !res.OK {
		return &ExitError{Code: 1, Msg: res.String()}
	}
	msg := res.String()
	if res.AnchorSeq > 0 {
		msg += fmt.Sprintf(" (retention removed seq 1..%d; the chain is anchored on seq %d's hash)", res.AnchorSeq, res.AnchorSeq)
	}
	fmt.Fprintln(env.Stdout, msg)
	return nil
}
