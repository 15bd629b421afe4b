package main

// TEST DOUBLE behaviour, opt-in (SHAI_K3S_DOUBLE_CONTROLLERS=argocd): a stand-in for ArgoCD's
// application-controller. It is NOT ArgoCD. Once ArgoCD is installed (a StatefulSet labelled
// app.kubernetes.io/part-of=argocd, component=application-controller exists in a namespace), for
// every Application in that namespace it renders the source and server-side applies what it
// rendered (argocd_sources.go), then writes a status that claims no more than it knows:
//
//   - status.sync.status=Synced (revision: the commit or chart version) only when everything it
//     rendered applied; OutOfSync + a SyncError condition naming what did not apply;
//   - what the double cannot compare is reported as such, never as drift: sync Unknown, health
//     Unknown and a ComparisonError condition (what drift reads as unverified) whose message
//     says why: "test double: chart source not available, not rendered ..." for a Helm source
//     whose chart is not embedded (every chart but the bootstrap ones), "test double: not
//     applied: kind(s) ... not served ..." for objects whose CRD comes from a chart it did not
//     render, or the repository/chart that could not be read or rendered;
//   - health as ArgoCD's built-in checks read it from the applied objects' status (Deployment,
//     StatefulSet, DaemonSet rolled out; PVC bound): Healthy, else Progressing (Missing when
//     something did not apply). No pod runs in the double, so every synced Application also
//     gets the condition TestDoubleHealthUnverified saying that workload health is unverified
//     (the only workloads that ever look rolled out are those the kubelet stand-in marked,
//     kubelet_double.go). Application resources have no health of their own (ArgoCD's default;
//     the tree's Lua health customization for Applications is not evaluated by the double).

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const argocdDoubleManager = "argocd-controller-test-double"

// Condition type the double writes besides ArgoCD's own ComparisonError and SyncError.
const (
	condHealthUnverified = "TestDoubleHealthUnverified"
	healthUnverifiedMsg  = "test double: health is read from the applied objects' status; no pod runs in the k3s test " +
		"double (workloads look rolled out only where its kubelet stand-in says so on the object), workload health unverified"
)

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// How often a source is rendered and applied again (ArgoCD's default reconciliation is 3 minutes).
const argocdRefresh = 30 * time.Second

type argocdDouble struct {
	cfg     *rest.Config
	cs      kubernetes.Interface
	apply   *applier
	fetched map[string]time.Time   // Application uid/generation -> last sync
	result  map[string]*syncResult // Application uid -> last sync
}

func runArgoCDDouble(ctx context.Context, cfg *rest.Config) {
	cs, a, err := newDoubleClients(cfg, argocdDoubleManager)
	if err != nil {
		log.Printf("argocd test double: %v", err)
		return
	}
	d := &argocdDouble{cfg: cfg, cs: cs, apply: a, fetched: map[string]time.Time{}, result: map[string]*syncResult{}}
	log.Printf("argocd application-controller TEST DOUBLE running (renders directory sources and embedded charts; " +
		"Synced only when all applied; workload health unverified)")
	for {
		d.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(3 * time.Second):
		}
	}
}

// argocdNamespaces: where an ArgoCD application-controller StatefulSet exists.
func (d *argocdDouble) argocdNamespaces(ctx context.Context) []string {
	stss, err := d.cs.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/part-of=argocd,app.kubernetes.io/component=application-controller",
	})
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range stss.Items {
		if !hasString(out, s.Namespace) {
			out = append(out, s.Namespace)
		}
	}
	return out
}

func (d *argocdDouble) reconcile(ctx context.Context) {
	for _, ns := range d.argocdNamespaces(ctx) {
		apps, err := d.apply.dyn.Resource(applicationGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			if !apierrors.IsNotFound(err) {
				log.Printf("argocd test double: listing Applications in %s: %v", ns, err)
			}
			continue
		}
		for i := range apps.Items {
			d.reconcileApp(ctx, &apps.Items[i])
		}
	}
}

func (d *argocdDouble) reconcileApp(ctx context.Context, app *unstructured.Unstructured) {
	if app.GetDeletionTimestamp() != nil {
		return
	}
	key := fmt.Sprintf("%s/%d", app.GetUID(), app.GetGeneration())
	res := d.result[string(app.GetUID())]
	if res == nil || res.key != key || time.Since(d.fetched[key]) >= argocdRefresh {
		res = d.syncApp(ctx, app)
		res.key = key
		d.result[string(app.GetUID())], d.fetched[key] = res, time.Now()
		if res.err != "" {
			log.Printf("argocd test double: Application %s: %s", app.GetName(), res.err)
		}
	}
	status := d.status(ctx, res)
	cur, _, _ := unstructured.NestedMap(app.Object, "status")
	if statusMatches(cur, status) {
		return
	}
	patch, _ := json.Marshal(map[string]any{"status": status})
	_, err := d.apply.dyn.Resource(applicationGVR).Namespace(app.GetNamespace()).Patch(
		ctx, app.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: argocdDoubleManager})
	if err != nil && !apierrors.IsNotFound(err) {
		log.Printf("argocd test double: status of Application %s: %v", app.GetName(), err)
	}
}

// status: the Application status for the last sync result, health read now.
func (d *argocdDouble) status(ctx context.Context, res *syncResult) map[string]any {
	cond := func(t, msg string) map[string]any { return map[string]any{"type": t, "message": msg} }
	switch {
	case res.notRendered != "":
		return map[string]any{
			"sync":       map[string]any{"status": "Unknown", "revision": nil},
			"health":     map[string]any{"status": "Unknown", "message": res.notRendered},
			"conditions": []any{cond("ComparisonError", res.notRendered)},
		}
	case res.compareErr:
		return map[string]any{
			"sync":       map[string]any{"status": "Unknown", "revision": nil},
			"health":     map[string]any{"status": "Unknown", "message": "test double: source not rendered"},
			"conditions": []any{cond("ComparisonError", res.err)},
		}
	case res.err != "":
		return map[string]any{
			"sync":       map[string]any{"status": "OutOfSync", "revision": res.revision},
			"health":     map[string]any{"status": "Missing", "message": "test double: not everything rendered applied"},
			"conditions": []any{cond("SyncError", res.err), cond(condHealthUnverified, healthUnverifiedMsg)},
		}
	case len(res.unserved) > 0:
		msg := "test double: not applied: kind(s) " + strings.Join(res.unserved, ", ") + " not served by this " +
			"cluster (their CRDs come from charts the test double does not render)"
		return map[string]any{
			"sync":       map[string]any{"status": "Unknown", "revision": nil},
			"health":     map[string]any{"status": "Unknown", "message": msg},
			"conditions": []any{cond("ComparisonError", msg)},
		}
	}
	health, msg := d.health(ctx, res.applied)
	unverified := healthUnverifiedMsg
	if res.hooks > 0 {
		unverified += fmt.Sprintf("; %d chart hook(s) not run (no kubelet)", res.hooks)
	}
	h := map[string]any{"status": health, "message": nil}
	if msg != "" {
		h["message"] = msg
	}
	return map[string]any{
		"sync":       map[string]any{"status": "Synced", "revision": res.revision},
		"health":     h,
		"conditions": []any{cond(condHealthUnverified, unverified)},
	}
}

// statusMatches: the fields the double writes are already as wanted (a nil in want: absent).
func statusMatches(cur, want any) bool {
	w, ok := want.(map[string]any)
	if !ok {
		return sameJSON(cur, want)
	}
	c, _ := cur.(map[string]any)
	for k, wv := range w {
		if wv == nil {
			if c[k] != nil {
				return false
			}
		} else if !statusMatches(c[k], wv) {
			return false
		}
	}
	return true
}

// health is ArgoCD's built-in health of the applied workloads, read from their status.
func (d *argocdDouble) health(ctx context.Context, objs []objRef) (string, string) {
	var waiting []string
	for _, o := range objs {
		ok, err := d.rolledOut(ctx, o)
		if err != nil {
			return "Missing", fmt.Sprintf("%s %s/%s: %v", o.kind, o.namespace, o.name, err)
		}
		if !ok {
			waiting = append(waiting, o.kind+" "+o.namespace+"/"+o.name)
		}
	}
	if len(waiting) > 0 {
		return "Progressing", "waiting for rollout (no kubelet in the k3s test double): " + strings.Join(waiting, ", ")
	}
	return "Healthy", ""
}

func (d *argocdDouble) rolledOut(ctx context.Context, o objRef) (bool, error) {
	get := metav1.GetOptions{}
	switch o.kind {
	case "Deployment":
		x, err := d.cs.AppsV1().Deployments(o.namespace).Get(ctx, o.name, get)
		if err != nil {
			return false, err
		}
		want := replicasOf(x.Spec.Replicas)
		return x.Status.ObservedGeneration >= x.Generation && x.Status.UpdatedReplicas == want &&
			x.Status.AvailableReplicas == want, nil
	case "StatefulSet":
		x, err := d.cs.AppsV1().StatefulSets(o.namespace).Get(ctx, o.name, get)
		if err != nil {
			return false, err
		}
		return x.Status.ObservedGeneration >= x.Generation && x.Status.ReadyReplicas == replicasOf(x.Spec.Replicas) &&
			x.Status.CurrentRevision == x.Status.UpdateRevision, nil
	case "DaemonSet":
		x, err := d.cs.AppsV1().DaemonSets(o.namespace).Get(ctx, o.name, get)
		if err != nil {
			return false, err
		}
		return x.Status.ObservedGeneration >= x.Generation && x.Status.DesiredNumberScheduled > 0 &&
			x.Status.NumberAvailable == x.Status.DesiredNumberScheduled, nil
	case "PersistentVolumeClaim":
		x, err := d.cs.CoreV1().PersistentVolumeClaims(o.namespace).Get(ctx, o.name, get)
		if err != nil {
			return false, err
		}
		return x.Status.Phase == "Bound", nil
	}
	return true, nil
}
