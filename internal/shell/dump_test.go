package shell

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestDump(t *testing.T) {
	fn := os.Getenv("DUMP")
	if fn == "" {
		t.Skip()
	}
	fh, _ := os.Open(fn)
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		a := Parse(sc.Text(), Options{Cwd: "/home/dev/proj", Home: "/home/dev"})
		b, _ := json.Marshal(a)
		fmt.Printf("%s\n  => %s\n", sc.Text(), b)
	}
}
