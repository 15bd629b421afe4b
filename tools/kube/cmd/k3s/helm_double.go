package main

// TEST DOUBLE behaviour, opt-in (SHAI_K3S_DOUBLE_CONTROLLERS=helm-controller): a stand-in for
// k3s's helm-controller. The double has no kubelet and cannot reach a chart repository, so it
// does NOT run Helm. It implements only the API-side contract that roles/argocd_bootstrap relies
// on, for the charts listed in doubleCharts:
//
//   - "install" a HelmChart (not annotated helmcharts.helm.cattle.io/unmanaged): add the
//     helm-controller finalizer, apply the CRDs the chart would install (copies of the upstream
//     CRDs in charts/<chart>/), create the chart's Deployments/StatefulSets named as the chart
//     names them (fullnameOverride or release name) and write Helm's release record Secret
//     sh.helm.release.v1.<release>.v1 (labels owner=helm,name=<release>,status=deployed);
//   - mark those workloads rolled out (status replicas/ready/available = spec, observedGeneration
//     = generation), again after every change such as `kubectl rollout restart`;
//   - "uninstall" a deleted HelmChart that is still managed: delete the workloads and the release
//     records, then release the finalizer. A chart annotated unmanaged is ignored entirely, as
//     by the real helm-controller: its finalizer stays until someone removes it.

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"log"
	"path"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

//go:embed charts
var chartsFS embed.FS

const (
	unmanagedAnnotation = "helmcharts.helm.cattle.io/unmanaged"
	helmChartFinalizer  = "wrangler.cattle.io/on-helm-chart-remove"
	helmDoubleManager   = "helm-controller-test-double"
	// Label on every object the helm-controller double creates (the status marker selects on it).
	doubleLabel = "shai.vectorweight.com/test-double"
	// Environment variable listing the opt-in TEST DOUBLE controllers (comma separated).
	doubleControllersEnv = "SHAI_K3S_DOUBLE_CONTROLLERS"
)

var helmChartGVR = schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}

// doubleWorkload is one workload of a chart: kind and the suffix appended to the chart's fullname.
type doubleWorkload struct {
	kind, suffix, component string
}

// doubleCharts: the charts the double knows, by spec.chart, with the workloads their upstream
// templates create (names as rendered with the release's fullname).
var doubleCharts = map[string][]doubleWorkload{
	"sealed-secrets": {{"Deployment", "", "controller"}},
	"argo-cd": {
		{"Deployment", "-server", "server"},
		{"Deployment", "-repo-server", "repo-server"},
		{"Deployment", "-redis", "redis"},
		{"Deployment", "-applicationset-controller", "applicationset-controller"},
		{"StatefulSet", "-application-controller", "application-controller"},
	},
}

// enabledDoubleControllers parses SHAI_K3S_DOUBLE_CONTROLLERS (e.g. "helm-controller,argocd").
func enabledDoubleControllers(value string) map[string]bool {
	out := map[string]bool{}
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "":
		case "helm-controller", "argocd":
			out[name] = true
		default:
			log.Printf("%s: unknown test double controller %q (known: helm-controller, argocd)", doubleControllersEnv, name)
		}
	}
	return out
}

type helmDouble struct {
	cs        kubernetes.Interface
	apply     *applier
	installed map[string]bool // HelmChart uid/generation already installed
}

// chartFullname mirrors the charts' `fullname` helper: fullnameOverride, else the release name
// when it contains the chart name, else <release>-<chart>.
func chartFullname(release, chart, values string) string {
	var v map[string]any
	if err := yaml.Unmarshal([]byte(values), &v); err == nil {
		if s, ok := v["fullnameOverride"].(string); ok && s != "" {
			return s
		}
	}
	if strings.Contains(release, chart) {
		return release
	}
	return release + "-" + chart
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// newDoubleClients: the clientset and the server-side applier (with its field manager) that each
// controller double uses.
func newDoubleClients(cfg *rest.Config, manager string) (kubernetes.Interface, *applier, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	a, err := newApplier(cfg)
	if err != nil {
		return nil, nil, err
	}
	a.manager = manager
	return cs, a, nil
}

func runHelmControllerDouble(ctx context.Context, cfg *rest.Config) {
	cs, a, err := newDoubleClients(cfg, helmDoubleManager)
	if err != nil {
		log.Printf("helm-controller test double: %v", err)
		return
	}
	h := &helmDouble{cs: cs, apply: a, installed: map[string]bool{}}
	log.Printf("helm-controller TEST DOUBLE running (no Helm: CRDs, workloads and release records only)")
	for {
		h.reconcileCharts(ctx)
		h.markWorkloadsReady(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (h *helmDouble) reconcileCharts(ctx context.Context) {
	list, err := h.apply.dyn.Resource(helmChartGVR).Namespace("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			log.Printf("helm-controller test double: listing HelmCharts: %v", err)
		}
		return
	}
	for i := range list.Items {
		hc := &list.Items[i]
		if hc.GetAnnotations()[unmanagedAnnotation] == "true" {
			continue // like the real helm-controller: an unmanaged chart is not touched at all
		}
		var err error
		if hc.GetDeletionTimestamp() != nil {
			err = h.uninstall(ctx, hc)
		} else {
			err = h.install(ctx, hc)
		}
		if err != nil {
			log.Printf("helm-controller test double: HelmChart %s: %v (will retry)", hc.GetName(), err)
		}
	}
}

func chartTarget(hc *unstructured.Unstructured) (chart, namespace, values string) {
	chart, _, _ = unstructured.NestedString(hc.Object, "spec", "chart")
	namespace, _, _ = unstructured.NestedString(hc.Object, "spec", "targetNamespace")
	if namespace == "" {
		namespace = hc.GetNamespace()
	}
	values, _, _ = unstructured.NestedString(hc.Object, "spec", "valuesContent")
	return chart, namespace, values
}

func (h *helmDouble) patchFinalizers(ctx context.Context, hc *unstructured.Unstructured, finalizers []string) error {
	if finalizers == nil {
		finalizers = []string{}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers": finalizers, "resourceVersion": hc.GetResourceVersion(),
	}})
	_, err := h.apply.dyn.Resource(helmChartGVR).Namespace(hc.GetNamespace()).Patch(
		ctx, hc.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: helmDoubleManager})
	return err
}

func (h *helmDouble) install(ctx context.Context, hc *unstructured.Unstructured) error {
	if !hasString(hc.GetFinalizers(), helmChartFinalizer) {
		return h.patchFinalizers(ctx, hc, append(hc.GetFinalizers(), helmChartFinalizer)) // next pass installs
	}
	key := fmt.Sprintf("%s/%d", hc.GetUID(), hc.GetGeneration())
	if h.installed[key] {
		return nil
	}
	chart, ns, values := chartTarget(hc)
	release := hc.GetName()
	version, _, _ := unstructured.NestedString(hc.Object, "spec", "version")
	workloads, known := doubleCharts[chart]
	if !known {
		log.Printf("helm-controller test double: chart %q unknown to the double: only its release record is written", chart)
	}
	// CRDs first (Helm installs crds/ before the templates).
	if entries, err := chartsFS.ReadDir(path.Join("charts", chart)); err == nil {
		for _, e := range entries {
			data, err := chartsFS.ReadFile(path.Join("charts", chart, e.Name()))
			if err != nil {
				return err
			}
			if err := h.apply.applyData(ctx, data); err != nil {
				return fmt.Errorf("CRDs %s: %w", e.Name(), err)
			}
		}
	}
	fullname := chartFullname(release, chart, values)
	for _, w := range workloads {
		obj := workloadObject(w, fullname+w.suffix, ns, release, chart, version)
		if err := h.apply.apply(ctx, obj); err != nil {
			return err
		}
	}
	if err := h.writeReleaseRecord(ctx, release, ns, chart, version); err != nil {
		return err
	}
	h.installed[key] = true
	log.Printf("helm-controller test double: installed HelmChart %s (chart %s %s) into %s", release, chart, version, ns)
	return nil
}

func workloadObject(w doubleWorkload, name, ns, release, chart, version string) *unstructured.Unstructured {
	labels := map[string]any{
		"app.kubernetes.io/name":       name,
		"app.kubernetes.io/instance":   release,
		"app.kubernetes.io/component":  w.component,
		"app.kubernetes.io/managed-by": "Helm",
		"helm.sh/chart":                chart + "-" + version,
		doubleLabel:                    "helm-controller",
	}
	selector := map[string]any{"app.kubernetes.io/name": name, "app.kubernetes.io/instance": release}
	spec := map[string]any{
		"replicas": int64(1),
		"selector": map[string]any{"matchLabels": selector},
		"template": map[string]any{
			"metadata": map[string]any{"labels": selector},
			"spec": map[string]any{"containers": []any{map[string]any{
				"name":  w.component,
				"image": "test-double.invalid/" + chart + "/" + w.component + ":" + version,
			}}},
		},
	}
	if w.kind == "StatefulSet" {
		spec["serviceName"] = name
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       w.kind,
		"metadata": map[string]any{
			"name": name, "namespace": ns, "labels": labels,
			"annotations": map[string]any{
				"meta.helm.sh/release-name":      release,
				"meta.helm.sh/release-namespace": ns,
				"shai.vectorweight.com/note":     "created by the k3s TEST DOUBLE's helm-controller double; no pod runs",
			},
		},
		"spec": spec,
	}}
}

// writeReleaseRecord writes the Secret Helm 3 keeps per release revision (owner=helm labels).
func (h *helmDouble) writeReleaseRecord(ctx context.Context, release, ns, chart, version string) error {
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "sh.helm.release.v1." + release + ".v1",
			Namespace: ns,
			Labels: map[string]string{
				"owner": "helm", "name": release, "status": "deployed", "version": "1", doubleLabel: "helm-controller",
			},
		},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": []byte("k3s test double: no real Helm release (" + chart + " " + version + ")")},
	}
	_, err := h.cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{FieldManager: helmDoubleManager})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// uninstall is `helm uninstall`: workloads and release records go, CRDs stay (Helm keeps them).
func (h *helmDouble) uninstall(ctx context.Context, hc *unstructured.Unstructured) error {
	if !hasString(hc.GetFinalizers(), helmChartFinalizer) {
		return nil
	}
	_, ns, _ := chartTarget(hc)
	release := hc.GetName()
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release + "," + doubleLabel + "=helm-controller"}
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	if err := h.cs.AppsV1().Deployments(ns).DeleteCollection(ctx, del, sel); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := h.cs.AppsV1().StatefulSets(ns).DeleteCollection(ctx, del, sel); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	rel := metav1.ListOptions{LabelSelector: "owner=helm,name=" + release}
	if err := h.cs.CoreV1().Secrets(ns).DeleteCollection(ctx, del, rel); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	var keep []string
	for _, f := range hc.GetFinalizers() {
		if f != helmChartFinalizer {
			keep = append(keep, f)
		}
	}
	if err := h.patchFinalizers(ctx, hc, keep); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	log.Printf("helm-controller test double: uninstalled release %s from %s (HelmChart deleted)", release, ns)
	return nil
}

// markWorkloadsReady stands in for the kubelet + deployment/statefulset controllers for the
// double's own workloads: every replica is reported ready for the current generation.
func (h *helmDouble) markWorkloadsReady(ctx context.Context) {
	sel := metav1.ListOptions{LabelSelector: doubleLabel + "=helm-controller"}
	if deps, err := h.cs.AppsV1().Deployments("").List(ctx, sel); err == nil {
		for i := range deps.Items {
			d := &deps.Items[i]
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = *d.Spec.Replicas
			}
			st := d.Status
			if st.ObservedGeneration == d.Generation && st.Replicas == want && st.UpdatedReplicas == want &&
				st.ReadyReplicas == want && st.AvailableReplicas == want {
				continue
			}
			now := metav1.Now()
			d.Status = appsv1.DeploymentStatus{
				ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want, ReadyReplicas: want,
				AvailableReplicas: want,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "TestDouble",
						Message: "k3s test double: marked available, no pod runs", LastUpdateTime: now, LastTransitionTime: now},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
						Message: "k3s test double: marked rolled out", LastUpdateTime: now, LastTransitionTime: now},
				},
			}
			if _, err := h.cs.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil &&
				!apierrors.IsConflict(err) {
				log.Printf("helm-controller test double: status of deployment %s/%s: %v", d.Namespace, d.Name, err)
			}
		}
	}
	if stss, err := h.cs.AppsV1().StatefulSets("").List(ctx, sel); err == nil {
		for i := range stss.Items {
			s := &stss.Items[i]
			want := int32(1)
			if s.Spec.Replicas != nil {
				want = *s.Spec.Replicas
			}
			rev := fmt.Sprintf("%s-gen%d", s.Name, s.Generation)
			st := s.Status
			if st.ObservedGeneration == s.Generation && st.ReadyReplicas == want && st.CurrentRevision == rev &&
				st.UpdateRevision == rev {
				continue
			}
			s.Status = appsv1.StatefulSetStatus{
				ObservedGeneration: s.Generation, Replicas: want, ReadyReplicas: want, CurrentReplicas: want,
				UpdatedReplicas: want, AvailableReplicas: want, CurrentRevision: rev, UpdateRevision: rev,
			}
			if _, err := h.cs.AppsV1().StatefulSets(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil &&
				!apierrors.IsConflict(err) {
				log.Printf("helm-controller test double: status of statefulset %s/%s: %v", s.Namespace, s.Name, err)
			}
		}
	}
}
