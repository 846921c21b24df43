// Command vigil-hook is `vigil hook` in a binary of its own. It links only
// the hook's packages (no SQLite, HTTP server or metrics), so it starts in
// about half the time of the full binary; `vigil connect` writes it into
// Claude Code's settings when it sits next to `vigil`. It takes the same
// optional "hook" argument, so the command line has the same shape.
package main

import (
	"context"
	"os"

	"github.com/vigil-sec/vigil/internal/hook"
)

func main() {
	hook.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
}
