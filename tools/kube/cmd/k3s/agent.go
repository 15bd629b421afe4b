package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/kubernetes"
)

// runAgent registers this host as a worker Node with the server (authenticated by the node token)
// and keeps its heartbeat until stopped. No kubelet or containers run: it is a test double.
func runAgent(args []string) int {
	log.SetPrefix("k3s-test-double agent: ")
	settings, err := loadSettings(args, "/etc/rancher/k3s/config.yaml")
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	serverURL := settings.Get("server", "")
	if serverURL == "" {
		log.Printf("error: --server (or K3S_URL / server: in config.yaml) is required for an agent")
		return 1
	}
	token, err := readToken(settings)
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	if token == "" {
		log.Printf("error: a token is required to join %s (token or token-file)", serverURL)
		return 1
	}
	cs, err := kubernetes.NewForConfig(tokenRESTConfig(serverURL, tokenPassword(token)))
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	name := settings.Get("node-name", hostname())
	ip := settings.Get("node-ip", primaryIPv4())
	log.Printf("starting %s (k3s %s) agent %q ip %s, server %s", doubleNote, k3sVersion, name, ip, serverURL)
	n := nodeSpec{name: name, ip: ip, s: settings, onReady: func() { sdNotify("READY=1") }}
	n.keepRegistered(ctx, cs)
	sdNotify("STOPPING=1")
	log.Printf("stopped")
	os.Stdout.Sync() //nolint:errcheck
	return 0
}
