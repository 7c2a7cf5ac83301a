// Command etcd is a thin wrapper around etcd's own entry point, so that a
// current etcd can be built from the Go module proxy (see ../../build.sh).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
