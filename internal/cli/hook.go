package cli

import (
	"context"

	"github.com/vigil-sec/vigil/internal/hook"
)

// runHook is `vigil hook`. Whatever happens it returns nil (exit 0); the
// lean vigil-hook binary runs the same hook.Main.
func runHook(ctx context.Context, env *Env, args []string) error {
	hook.Main(ctx, args, env.Stdin, env.Stdout, env.Stderr, env.Getenv)
	return nil
}
