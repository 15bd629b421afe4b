// Command k3s is shai's k3s TEST DOUBLE — not k3s.
//
// The real k3s binary cannot be downloaded in shai's test environment, so the lab installs this
// executable instead. It accepts the k3s command line and /etc/rancher/k3s/config.yaml, and as
// `k3s server` it runs a REAL Kubernetes control plane: the unmodified kube-apiserver from
// k8s.io/kubernetes and an embedded etcd in-process, plus kube-controller-manager as a child
// process. It writes /etc/rancher/k3s/k3s.yaml and the node token like k3s, registers a Node that
// it marks Ready, and applies /var/lib/rancher/k3s/server/manifests like k3s's deploy controller.
//
// There is no kubelet, no container runtime, no CNI: pods are stored but never run. `k3s agent`
// registers its Node with the server and idles. See docs/kube-harness.md.
//
// etcd snapshots (etcd_snapshot.go): the etcd-snapshot-* options schedule real snapshots of the
// embedded etcd, `k3s etcd-snapshot save|ls|delete|prune` manage them and `k3s server
// --cluster-reset --cluster-reset-restore-path=FILE` restores one; S3 is not supported (it says
// so). See docs/backup.md.
//
// Opt-in TEST DOUBLE controllers (off unless SHAI_K3S_DOUBLE_CONTROLLERS lists them, e.g.
// "helm-controller,argocd"): a helm-controller double (helm_double.go) and an ArgoCD
// application-controller double (argocd_double.go) that implement only the API-side contract
// roles/argocd_bootstrap relies on. See docs/testing.md.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

// k3sVersion is set at build time (tools/build.sh: -X main.k3sVersion=...).
var k3sVersion = "v1.37.2+k3s1"

const doubleNote = "shai test double: apiserver+etcd, no kubelet"

func usage() {
	fmt.Fprintf(os.Stderr, `k3s %s (%s)

Usage: k3s COMMAND [flags]

Commands:
  server            run the control plane (real kube-apiserver + embedded etcd + kube-controller-manager)
  agent             register a Node with a server and idle (no kubelet, no containers)
  kubectl           run kubectl (bundled) against /etc/rancher/k3s/k3s.yaml
  etcd-snapshot     save, ls, delete, prune snapshots of the embedded etcd (no S3)
  check-config      succeed (the test double needs no kernel features)
  --version, -v     print the version
`, k3sVersion, doubleNote)
}

func printVersion() {
	fmt.Printf("k3s version %s (%s)\n", k3sVersion, doubleNote)
	fmt.Printf("go version %s\n", runtime.Version())
}

func main() {
	// Multi-call like the real k3s: a symlink named kubectl runs kubectl.
	if base := filepath.Base(os.Args[0]); base == "kubectl" {
		os.Exit(runKubectl(os.Args[1:]))
	}
	if len(os.Args) < 2 {
		usage()
		os.Exit(1)
	}
	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "--version", "-v", "version":
		printVersion()
	case "-h", "--help", "help":
		usage()
	case "server":
		os.Exit(runServer(args))
	case "agent":
		os.Exit(runAgent(args))
	case "kubectl":
		os.Exit(runKubectl(args))
	case "check-config":
		fmt.Println("k3s check-config: " + doubleNote + "; no kernel requirements to check")
	case "kube-controller-manager": // internal: started as a child process by `k3s server`
		kcm := kcmapp.NewControllerManagerCommand()
		kcm.SetArgs(args)
		os.Exit(cli.Run(kcm))
	case "etcd-snapshot":
		os.Exit(runEtcdSnapshot(args))
	case "crictl", "ctr", "secrets-encrypt", "certificate", "token", "completion":
		fmt.Fprintf(os.Stderr, "k3s %s: not available in the %s\n", cmd, doubleNote)
		os.Exit(1)
	default:
		fmt.Fprintf(os.Stderr, "k3s: unknown command %q\n\n", cmd)
		usage()
		os.Exit(1)
	}
}

// runKubectl runs the bundled kubectl; like k3s it defaults KUBECONFIG to /etc/rancher/k3s/k3s.yaml.
func runKubectl(args []string) int {
	if os.Getenv("KUBECONFIG") == "" && !hasFlag(args, "--kubeconfig") {
		for _, p := range []string{"/etc/rancher/k3s/k3s.yaml", filepath.Join(homeDir(), ".kube", "k3s.yaml")} {
			if f, err := os.Open(p); err == nil {
				_ = f.Close()
				_ = os.Setenv("KUBECONFIG", p)
				break
			}
		}
	}
	os.Args = append([]string{"kubectl"}, args...)
	_, _ = logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args))
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
	return 0
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/root"
}
