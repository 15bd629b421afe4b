// Command kube-controller-manager is the unmodified Kubernetes controller manager
// (k8s.io/kubernetes/cmd/kube-controller-manager). shai's harness runs it for namespace
// finalisation, default service accounts and garbage collection.
package main

import (
	"os"
	_ "time/tzdata" // for CronJob Time Zone support

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
