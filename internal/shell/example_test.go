package shell_test

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/shell"
)

func ExampleParse() {
	a := shell.Parse(`a=r; b=m; sudo -S bash -c "$a$b -rf ~/.ssh" && echo cm0gLXJmIC8= | base64 -d | sh`,
		shell.Options{Cwd: "/home/dev/proj", Home: "/home/dev"})
	for _, p := range a.Programs {
		fmt.Println(p.Depth, p.Wrappers, p.Name, p.Args)
	}
	fmt.Println("writes:", a.Writes)
	// Output:
	// 0 [sudo] bash [-c rm -rf ~/.ssh]
	// 1 [sudo bash -c] rm [-rf ~/.ssh]
	// 0 [] echo [cm0gLXJmIC8=]
	// 0 [] base64 [-d]
	// 0 [] sh []
	// 1 [sh stdin base64] rm [-rf /]
	// writes: [/home/dev/.ssh /]
}
