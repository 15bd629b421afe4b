package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Settings are k3s options merged from config.yaml (+ config.yaml.d/*.yaml), K3S_* environment
// variables and the command line, in that order; list options accumulate, scalars are replaced.
type Settings map[string][]string

// Options that take a list (repeatable on the command line, YAML lists in config.yaml).
var listOptions = map[string]bool{
	"tls-san": true, "disable": true, "node-label": true, "node-taint": true,
	"kube-apiserver-arg": true, "kube-controller-manager-arg": true, "kube-scheduler-arg": true,
	"kubelet-arg": true, "kube-proxy-arg": true, "etcd-arg": true, "kube-cloud-controller-manager-arg": true,
	"node-external-ip": true, "node-ip": true, "advertise-address": false, "etcd-s3": false,
}

// Boolean options (`--flag` without a value means true).
var boolOptions = map[string]bool{
	"cluster-init": true, "secrets-encryption": true, "protect-kernel-defaults": true, "debug": true,
	"disable-network-policy": true, "disable-kube-proxy": true, "disable-helm-controller": true,
	"disable-cloud-controller": true, "disable-scheduler": true, "disable-controller-manager": true,
	"disable-apiserver": true, "disable-etcd": true, "selinux": true, "rootless": true, "prefer-bundled-bin": true,
	"embedded-registry": true, "supervisor-metrics": true, "cluster-reset": true, "docker": true,
	"flannel-ipv6-masq": true, "flannel-external-ip": true, "egress-selector-mode": false, "etcd-expose-metrics": true,
	"enable-pprof": true, "disable-default-registry-endpoint": true, "lb-server-port": false, "with-node-id": true,
	"secrets-encryption-provider": false, "etcd-disable-snapshots": true, "write-kubeconfig-group": false,
}

var shortFlags = map[string]string{"c": "config", "d": "data-dir", "o": "write-kubeconfig", "t": "token", "s": "server", "v": "v"}

// envOptions are the K3S_* variables the k3s install script writes into k3s.service.env.
var envOptions = map[string]string{
	"K3S_TOKEN": "token", "K3S_TOKEN_FILE": "token-file", "K3S_URL": "server", "K3S_NODE_NAME": "node-name",
	"K3S_KUBECONFIG_OUTPUT": "write-kubeconfig", "K3S_KUBECONFIG_MODE": "write-kubeconfig-mode",
	"K3S_DATA_DIR": "data-dir", "K3S_CLUSTER_INIT": "cluster-init", "K3S_AGENT_TOKEN": "agent-token",
}

func (s Settings) Get(key, def string) string {
	if v := s[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return def
}

func (s Settings) Bool(key string) bool {
	b, err := strconv.ParseBool(s.Get(key, "false"))
	return err == nil && b
}

func (s Settings) List(key string) []string {
	var out []string
	for _, v := range s[key] {
		// k3s accepts comma-separated values inside a list entry for some options (disable, tls-san).
		if key == "disable" || key == "tls-san" {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			continue
		}
		out = append(out, v)
	}
	return out
}

func (s Settings) set(key string, values []string, appendList bool) {
	if listOptions[key] && appendList {
		s[key] = append(s[key], values...)
		return
	}
	s[key] = values
}

// parseArgs turns `--flag value`, `--flag=value`, `-f value` and boolean `--flag` into Settings.
// Unknown flags are accepted and ignored with a log line, as the double implements a subset.
func parseArgs(args []string) (Settings, error) {
	out := Settings{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("unexpected argument %q (k3s takes only flags)", a)
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		if long, ok := shortFlags[name]; ok && !strings.HasPrefix(a, "--") {
			name = long
		}
		if !hasValue {
			if boolOptions[name] {
				value, hasValue = "true", true
			} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				value, hasValue = args[i], true
			} else {
				value = "true"
			}
		}
		out.set(name, []string{value}, true)
	}
	return out, nil
}

// loadConfigFile reads a k3s config.yaml: keys are long flag names, values scalars or lists.
func loadConfigFile(path string, into Settings, required bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) && !required {
			return nil
		}
		return fmt.Errorf("reading config file %s: %w", path, err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("config file %s: invalid YAML: %w", path, err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.TrimLeft(k, "-")
		appendList := strings.HasSuffix(name, "+") // k3s: "key+: value" appends
		name = strings.TrimSuffix(name, "+")
		var values []string
		switch v := raw[k].(type) {
		case []any:
			for _, item := range v {
				values = append(values, scalar(item))
			}
		case nil:
			continue
		default:
			values = []string{scalar(v)}
		}
		into.set(name, values, appendList)
	}
	return nil
}

func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	default:
		return fmt.Sprint(t)
	}
}

// loadSettings merges config file(s), environment and command line like k3s does.
func loadSettings(args []string, defaultConfig string) (Settings, error) {
	cli, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	s := Settings{}
	configPath, explicit := defaultConfig, false
	if v := os.Getenv("K3S_CONFIG_FILE"); v != "" {
		configPath, explicit = v, true
	}
	if v := cli.Get("config", ""); v != "" {
		configPath, explicit = v, true
	}
	if err := loadConfigFile(configPath, s, explicit); err != nil {
		return nil, err
	}
	dropins, _ := filepath.Glob(configPath + ".d/*.yaml")
	sort.Strings(dropins)
	for _, d := range dropins {
		if err := loadConfigFile(d, s, true); err != nil {
			return nil, err
		}
	}
	for env, key := range envOptions {
		if v := os.Getenv(env); v != "" {
			s.set(key, []string{v}, false)
		}
	}
	for k, v := range cli {
		if k == "config" {
			continue
		}
		s.set(k, v, true)
	}
	for k := range s {
		if !known[k] && !listOptions[k] && !boolOptions[k] {
			log.Printf("ignoring option %q (not implemented by the %s)", k, doubleNote)
		}
	}
	return s, nil
}

// Options the double acts on (others are accepted and ignored).
var known = map[string]bool{
	"data-dir": true, "token": true, "token-file": true, "agent-token": true, "server": true,
	"write-kubeconfig": true, "write-kubeconfig-mode": true, "https-listen-port": true, "bind-address": true,
	"advertise-address": true, "node-ip": true, "node-name": true, "service-cidr": true, "cluster-cidr": true,
	"cluster-domain": true, "cluster-dns": true, "v": true,
}
