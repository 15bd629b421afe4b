package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"runtime"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// nodeSpec describes the Node object the double registers in place of a kubelet.
type nodeSpec struct {
	name   string
	ip     string
	labels map[string]string
	s      Settings
	// onReady runs once, after the first successful registration.
	onReady func()
}

// tokenRESTConfig authenticates with the node token (static token file on the server). The
// server's CA is not known to a fresh agent; the double skips verification (real k3s pins the CA
// hash from the K10 token) — acceptable only because this is a test double on a private lab net.
func tokenRESTConfig(serverURL, password string) *rest.Config {
	return &rest.Config{
		Host:            serverURL,
		BearerToken:     password,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		Timeout:         15 * time.Second,
	}
}

func parseTaint(s string) (corev1.Taint, error) {
	kv, effect, ok := strings.Cut(s, ":")
	if !ok {
		return corev1.Taint{}, fmt.Errorf("node-taint %q: want key[=value]:Effect", s)
	}
	k, v, _ := strings.Cut(kv, "=")
	switch corev1.TaintEffect(effect) {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		return corev1.Taint{}, fmt.Errorf("node-taint %q: unknown effect %q", s, effect)
	}
	return corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffect(effect)}, nil
}

func (n nodeSpec) object() *corev1.Node {
	labels := map[string]string{
		"kubernetes.io/hostname":           n.name,
		"kubernetes.io/os":                 "linux",
		"kubernetes.io/arch":               runtime.GOARCH,
		"beta.kubernetes.io/os":            "linux",
		"beta.kubernetes.io/arch":          runtime.GOARCH,
		"node.kubernetes.io/instance-type": "k3s",
	}
	for k, v := range n.labels {
		labels[k] = v
	}
	for _, l := range n.s.List("node-label") {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	var taints []corev1.Taint
	for _, t := range n.s.List("node-taint") {
		taint, err := parseTaint(t)
		if err != nil {
			log.Printf("warning: %v", err)
			continue
		}
		taints = append(taints, taint)
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   n.name,
			Labels: labels,
			Annotations: map[string]string{
				"k3s.io/hostname":            hostname(),
				"k3s.io/internal-ip":         n.ip,
				"shai.vectorweight.com/note": doubleNote,
			},
		},
		Spec: corev1.NodeSpec{Taints: taints},
	}
}

func (n nodeSpec) status(now metav1.Time) corev1.NodeStatus {
	mem := int64(4 << 30)
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = kb * 1024
		}
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
	}
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg,
			LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "k3s test double: registered, no kubelet"),
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "test double"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "test double"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "test double"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.ip},
			{Type: corev1.NodeHostName, Address: hostname()},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          k3sVersion,
			ContainerRuntimeVersion: "shai-test-double://none",
			KernelVersion:           kernelVersion(),
			OSImage:                 osImage(),
			OperatingSystem:         "linux",
			Architecture:            runtime.GOARCH,
		},
	}
}

func kernelVersion() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

func osImage() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "linux"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "linux"
}

// register creates or updates the Node and sets its status (Ready=True).
func (n nodeSpec) register(ctx context.Context, cs kubernetes.Interface) error {
	want := n.object()
	cur, err := cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if cur, err = cs.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating node %s: %w", n.name, err)
		}
		log.Printf("registered node %s", n.name)
	case err != nil:
		return err
	default:
		changed := false
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		for k, v := range want.Labels {
			if cur.Labels[k] != v {
				cur.Labels[k], changed = v, true
			}
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		for k, v := range want.Annotations {
			if cur.Annotations[k] != v {
				cur.Annotations[k], changed = v, true
			}
		}
		if changed {
			if cur, err = cs.CoreV1().Nodes().Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
	}
	cur.Status = n.status(metav1.Now())
	_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

// keepRegistered registers the node and refreshes its heartbeat every 30s until ctx ends.
func (n nodeSpec) keepRegistered(ctx context.Context, cs kubernetes.Interface) {
	ready := false
	for {
		if err := n.register(ctx, cs); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Printf("node %s: %v", n.name, err)
		} else if !ready {
			ready = true
			log.Printf("node %s Ready", n.name)
			if n.onReady != nil {
				n.onReady()
			}
		}
		delay := 30 * time.Second
		if !ready {
			delay = 3 * time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}
