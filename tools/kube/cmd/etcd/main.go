// Command etcd is the unmodified etcd server (go.etcd.io/etcd/server/v3/etcdmain) at the version
// k8s.io/kubernetes pins, so the API server's storage is the real thing.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
