package main

// TEST DOUBLE behaviour, opt-in (SHAI_K3S_DOUBLE_CONTROLLERS=helm-controller): a stand-in for
// k3s's helm-controller. It cannot reach a chart repository; it installs HelmCharts whose chart
// source is embedded in the binary (charts/, see helm_sdk.go: the bootstrap charts sealed-secrets
// and argo-cd at their pins) with the real Helm v4 SDK, so the objects in the cluster are the
// chart's own objects (CRDs, Deployments, Services, RBAC...) and the release records are Helm's.
//
//   - install/upgrade a HelmChart (not annotated helmcharts.helm.cattle.io/unmanaged): add the
//     helm-controller finalizer, then `helm install` (or `helm upgrade` when the chart version or
//     valuesContent changed) the chart into spec.targetNamespace with spec.valuesContent as values;
//     a release left failed/pending is uninstalled and installed again (failurePolicy: reinstall).
//     Differences from the real helm-controller: no Job runs `helm`, chart hooks are not run (no
//     kubelet to run hook Jobs; the release description says so), HelmChartConfig, spec.set and
//     spec.valuesSecrets are not merged. A chart whose source is not embedded is not installed:
//     the HelmChart gets the condition Failed=True saying so;
//   - the installed Deployments/StatefulSets cannot roll out without a kubelet: kubelet_double.go
//     annotates them and reports them rolled out (the annotation says that no pod ran);
//   - uninstall a deleted HelmChart that is still managed with `helm uninstall`, then release the
//     finalizer. A chart annotated unmanaged is ignored entirely, as by the real helm-controller:
//     its finalizer stays until someone removes it, and its release is never uninstalled.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

const (
	unmanagedAnnotation = "helmcharts.helm.cattle.io/unmanaged"
	helmChartFinalizer  = "wrangler.cattle.io/on-helm-chart-remove"
	helmDoubleManager   = "helm-controller-test-double"
	// Environment variable listing the opt-in TEST DOUBLE controllers (comma separated).
	doubleControllersEnv = "SHAI_K3S_DOUBLE_CONTROLLERS"
	// Release description of every release the double installs (`helm history` shows it).
	helmDoubleDescription = "installed by the k3s test double's helm-controller (Helm v4 SDK); chart hooks not run: no kubelet"
)

var helmChartGVR = schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}

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
	cfg       *rest.Config
	cs        kubernetes.Interface
	apply     *applier
	kubelet   *kubeletDouble
	logger    *slog.Logger
	installed map[string]bool // HelmChart uid/generation already installed
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
	logger := slog.New(slog.NewTextHandler(log.Writer(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := &helmDouble{cfg: cfg, cs: cs, apply: a, kubelet: &kubeletDouble{cs: cs}, logger: logger,
		installed: map[string]bool{}}
	log.Printf("helm-controller TEST DOUBLE running (Helm v4 SDK on the embedded chart sources; no kubelet: " +
		"rollout status of the installed workloads is set by the double)")
	for {
		h.reconcileCharts(ctx)
		h.kubelet.markWorkloadsReady(ctx)
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

// chartSpec is what the double reads of a HelmChart.
type chartSpec struct {
	chart, version, namespace string
	values                    map[string]any
}

func chartTarget(hc *unstructured.Unstructured) (chartSpec, error) {
	var s chartSpec
	s.chart, _, _ = unstructured.NestedString(hc.Object, "spec", "chart")
	s.version, _, _ = unstructured.NestedString(hc.Object, "spec", "version")
	s.namespace, _, _ = unstructured.NestedString(hc.Object, "spec", "targetNamespace")
	if s.namespace == "" {
		s.namespace = hc.GetNamespace()
	}
	values, _, _ := unstructured.NestedString(hc.Object, "spec", "valuesContent")
	s.values = map[string]any{}
	if err := yaml.Unmarshal([]byte(values), &s.values); err != nil {
		return s, fmt.Errorf("spec.valuesContent: %w", err)
	}
	if s.values == nil {
		s.values = map[string]any{}
	}
	return s, nil
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

// setFailed writes the HelmChart's Failed condition (the real helm-controller's status field).
func (h *helmDouble) setFailed(ctx context.Context, hc *unstructured.Unstructured, failed bool, reason, message string) {
	status := "False"
	if failed {
		status = "True"
	}
	conds, _, _ := unstructured.NestedSlice(hc.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Failed" && m["status"] == status && m["message"] == message {
			return
		}
	}
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{"conditions": []any{map[string]any{
		"type": "Failed", "status": status, "reason": reason, "message": message,
	}}}})
	_, err := h.apply.dyn.Resource(helmChartGVR).Namespace(hc.GetNamespace()).Patch(ctx, hc.GetName(),
		types.MergePatchType, patch, metav1.PatchOptions{FieldManager: helmDoubleManager}, "status")
	if err != nil && !apierrors.IsNotFound(err) {
		log.Printf("helm-controller test double: status of HelmChart %s: %v", hc.GetName(), err)
	}
}

func (h *helmDouble) install(ctx context.Context, hc *unstructured.Unstructured) error {
	if !hasString(hc.GetFinalizers(), helmChartFinalizer) {
		return h.patchFinalizers(ctx, hc, append(hc.GetFinalizers(), helmChartFinalizer)) // next pass installs
	}
	key := fmt.Sprintf("%s/%d", hc.GetUID(), hc.GetGeneration())
	if h.installed[key] {
		return nil
	}
	spec, err := chartTarget(hc)
	if err != nil {
		h.setFailed(ctx, hc, true, "InvalidValues", err.Error())
		return err
	}
	rel, err := h.installRelease(hc.GetName(), spec)
	if err != nil {
		var missing chartNotEmbedded
		if errors.As(err, &missing) {
			h.setFailed(ctx, hc, true, "ChartSourceNotAvailable", "k3s test double: "+err.Error()+"; not installed")
			h.installed[key] = true // nothing will change until the HelmChart does
		} else {
			h.setFailed(ctx, hc, true, "InstallFailed", "k3s test double (Helm v4 SDK): "+err.Error())
		}
		return err
	}
	if err := h.kubelet.claimWorkloads(ctx, rel.Manifest, rel.Namespace); err != nil {
		return err
	}
	h.setFailed(ctx, hc, false, "Installed", fmt.Sprintf(
		"k3s test double: release %s revision %d installed with the Helm v4 SDK; %s", rel.Name, rel.Version, kubeletNote))
	h.installed[key] = true
	return nil
}

// installRelease brings the release to the HelmChart's chart version and values: nothing when the
// deployed revision already has them, `helm upgrade` when it differs, `helm install` when there is
// no deployed revision (after `helm uninstall` of a failed or interrupted one).
func (h *helmDouble) installRelease(name string, spec chartSpec) (*release.Release, error) {
	ch, err := loadEmbeddedChart(spec.chart, spec.version)
	if err != nil {
		return nil, err
	}
	ac, err := helmConfig(h.cfg, spec.namespace, h.logger)
	if err != nil {
		return nil, err
	}
	if cur, err := ac.Releases.Deployed(name); err == nil {
		if r, ok := cur.(*release.Release); ok && r.Chart != nil && r.Chart.Metadata != nil &&
			r.Chart.Metadata.Name == ch.Metadata.Name && r.Chart.Metadata.Version == ch.Metadata.Version &&
			sameJSON(nonNil(r.Config), spec.values) {
			return r, nil
		}
		up := action.NewUpgrade(ac)
		up.Namespace, up.WaitStrategy, up.DisableHooks = spec.namespace, kube.HookOnlyStrategy, true
		up.Timeout, up.Description = 5*time.Minute, helmDoubleDescription
		r, err := up.Run(name, ch, spec.values)
		if err != nil {
			return nil, fmt.Errorf("helm upgrade %s: %w", name, err)
		}
		log.Printf("helm-controller test double: upgraded release %s to %s %s in %s", name, spec.chart, spec.version, spec.namespace)
		return asRelease(r)
	} else if !errors.Is(err, driver.ErrReleaseNotFound) && !errors.Is(err, driver.ErrNoDeployedReleases) {
		return nil, fmt.Errorf("reading release %s: %w", name, err)
	}
	if hist, err := ac.Releases.History(name); err == nil && len(hist) > 0 {
		un := action.NewUninstall(ac)
		un.WaitStrategy, un.DisableHooks, un.IgnoreNotFound = kube.HookOnlyStrategy, true, true
		if _, err := un.Run(name); err != nil {
			return nil, fmt.Errorf("helm uninstall of the failed release %s: %w", name, err)
		}
	}
	in := action.NewInstall(ac)
	in.ReleaseName, in.Namespace = name, spec.namespace
	in.WaitStrategy, in.DisableHooks, in.Timeout = kube.HookOnlyStrategy, true, 5*time.Minute
	in.Description = helmDoubleDescription
	r, err := in.RunWithContext(context.Background(), ch, spec.values)
	if err != nil {
		return nil, fmt.Errorf("helm install %s: %w", name, err)
	}
	log.Printf("helm-controller test double: installed release %s (%s %s) into %s with the Helm v4 SDK",
		name, spec.chart, spec.version, spec.namespace)
	return asRelease(r)
}

func asRelease(r any) (*release.Release, error) {
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("unexpected release type %T", r)
	}
	return rel, nil
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// uninstall is `helm uninstall` (CRDs stay, as Helm keeps them), then the finalizer goes.
func (h *helmDouble) uninstall(ctx context.Context, hc *unstructured.Unstructured) error {
	if !hasString(hc.GetFinalizers(), helmChartFinalizer) {
		return nil
	}
	spec, _ := chartTarget(hc)
	release := hc.GetName()
	ac, err := helmConfig(h.cfg, spec.namespace, h.logger)
	if err != nil {
		return err
	}
	un := action.NewUninstall(ac)
	un.WaitStrategy, un.DisableHooks, un.IgnoreNotFound = kube.HookOnlyStrategy, true, true
	un.Timeout = 2 * time.Minute
	if _, err := un.Run(release); err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return fmt.Errorf("helm uninstall %s: %w", release, err)
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
	log.Printf("helm-controller test double: uninstalled release %s from %s (HelmChart deleted)", release, spec.namespace)
	return nil
}
