package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// The crash test runs a writer in a child process (this test binary,
// re-executed) and SIGKILLs it in the middle of ingest. The child behaves
// like serve's spool reader: it resumes from its checkpoint, re-sends the
// batch before it (at-least-once delivery), and writes each batch together
// with its checkpoint. After every kill the store must hold exactly the
// events the checkpoint covers, every batch the child reported as committed
// must be there, and the chain must verify.

const crashChildEnv = "VIGIL_STORE_CRASH_CHILD"

const crashBatch = 100

func crashEvent(i int) Record {
	return ev(fmt.Sprintf("crash-%07d", i), i%1000, func(e *event.Event) {
		e.Action.Command = fmt.Sprintf("make test-%d", i)
	})
}

// TestMain lets the test binary act as the child of the crash and memory
// tests.
func TestMain(m *testing.M) {
	if paths := os.Getenv(rssChildEnv); paths != "" {
		q, a, _ := strings.Cut(paths, string(os.PathListSeparator))
		if err := rssChild(q, a); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if path := os.Getenv(crashChildEnv); path != "" {
		if err := crashChild(path); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func crashChild(path string) error {
	s, err := Open(path, Options{})
	if err != nil {
		return err
	}
	ctx := context.Background()
	cps, err := s.Checkpoints(ctx, "spool/")
	if err != nil {
		return err
	}
	next := int(cps["spool/seg-1"].Value)
	next = max(0, next-crashBatch) // at-least-once: re-send the last batch
	out := bufio.NewWriter(os.Stdout)
	for ; ; next += crashBatch {
		recs := make([]Record, crashBatch)
		for j := range recs {
			recs[j] = crashEvent(next + j)
		}
		if _, err := s.Append(ctx, recs, Checkpoint{Name: "spool/seg-1", Value: int64(next + crashBatch)}); err != nil {
			return err
		}
		fmt.Fprintf(out, "committed %d\n", next+crashBatch)
		out.Flush()
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "vigil.db")
	acked := 0
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run", "^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		// Let it commit a few batches, then kill it at a random point of
		// the next ones.
		for n := 0; n < 5+round*3 && sc.Scan(); n++ {
			v, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed "))
			if err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			acked = max(acked, v)
		}
		time.Sleep(time.Duration(3+round*7) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Batches committed before the kill may still be in the pipe.
		for sc.Scan() {
			if v, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed ")); err == nil {
				acked = max(acked, v)
			}
		}
		cmd.Wait()

		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		cps, err := s.Checkpoints(ctx, "spool/")
		if err != nil {
			t.Fatal(err)
		}
		cp := int(cps["spool/seg-1"].Value)
		n, err := s.Count(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		st, _ := s.Stats(ctx)
		v, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		t.Logf("round %d: acked %d, checkpoint %d, rows %d", round, acked, cp, n)
		switch {
		case cp < acked:
			t.Fatalf("round %d: checkpoint %d is behind the acknowledged %d: acknowledged events lost", round, cp, acked)
		case int(n) != cp || st.Events != int64(cp) || st.LastSeq != int64(cp):
			t.Fatalf("round %d: checkpoint %d but %d rows (stats %+v): lost or duplicated", round, cp, n, st)
		case !v.OK:
			t.Fatalf("round %d: chain broken after kill: %v", round, v)
		}
	}
}
