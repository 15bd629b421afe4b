package main

// TEST DOUBLE behaviour, opt-in (SHAI_K3S_DOUBLE_CONTROLLERS=argocd): a stand-in for ArgoCD's
// application-controller. It is NOT ArgoCD and renders no chart. Once ArgoCD is "installed"
// (a StatefulSet <fullname>-application-controller created by the helm-controller double
// exists in a namespace), for every Application in that namespace it:
//
//   - syncs app-of-apps sources only: an Application whose source is a plain directory of a git
//     repository (no chart) has the Application and AppProject documents under its path applied
//     (shallow `git clone` of repoURL at targetRevision; never pruned). Any other kind in the
//     directory is left alone: the double deploys no workloads;
//   - reports status.sync.status=Synced (with the commit as revision) and
//     status.health.status=Healthy, or sync Unknown + a ComparisonError condition when the
//     repository cannot be read.

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
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

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// How often a directory source is fetched again (ArgoCD's default reconciliation is 3 minutes).
const argocdRefresh = 30 * time.Second

type argocdDouble struct {
	cs      kubernetes.Interface
	apply   *applier
	fetched map[string]time.Time // Application uid -> last directory sync
	result  map[string][2]string // Application uid -> (revision, error) of the last sync
}

func runArgoCDDouble(ctx context.Context, cfg *rest.Config) {
	cs, a, err := newDoubleClients(cfg, argocdDoubleManager)
	if err != nil {
		log.Printf("argocd test double: %v", err)
		return
	}
	d := &argocdDouble{cs: cs, apply: a, fetched: map[string]time.Time{}, result: map[string][2]string{}}
	log.Printf("argocd application-controller TEST DOUBLE running (marks Applications Synced/Healthy)")
	for {
		d.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(3 * time.Second):
		}
	}
}

// argocdNamespaces: where the helm-controller double installed an application-controller.
func (d *argocdDouble) argocdNamespaces(ctx context.Context) []string {
	stss, err := d.cs.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{
		LabelSelector: doubleLabel + "=helm-controller,app.kubernetes.io/component=application-controller",
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
	repo, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
	dir, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
	chart, _, _ := unstructured.NestedString(app.Object, "spec", "source", "chart")
	rev, _, _ := unstructured.NestedString(app.Object, "spec", "source", "targetRevision")
	revision, syncErr := rev, ""
	if chart == "" && repo != "" && dir != "" {
		uid := string(app.GetUID())
		if time.Since(d.fetched[uid]) >= argocdRefresh {
			commit, err := d.syncDirectory(ctx, app, repo, rev, dir)
			res := [2]string{commit, ""}
			if err != nil {
				res = [2]string{"", err.Error()}
				log.Printf("argocd test double: Application %s: %v", app.GetName(), err)
			}
			d.result[uid], d.fetched[uid] = res, time.Now()
		}
		revision, syncErr = d.result[uid][0], d.result[uid][1]
	}
	status := map[string]any{
		"sync":   map[string]any{"status": "Synced", "revision": revision},
		"health": map[string]any{"status": "Healthy"},
	}
	if syncErr != "" {
		status["sync"] = map[string]any{"status": "Unknown"}
		status["health"] = map[string]any{"status": "Missing"}
		status["conditions"] = []any{map[string]any{"type": "ComparisonError", "message": syncErr}}
	} else {
		status["conditions"] = nil
	}
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

func statusMatches(cur, want map[string]any) bool {
	for _, k := range []string{"sync", "health"} {
		c, _ := cur[k].(map[string]any)
		w, _ := want[k].(map[string]any)
		for wk, wv := range w {
			if fmt.Sprint(c[wk]) != fmt.Sprint(wv) {
				return false
			}
		}
	}
	_, hasCond := cur["conditions"]
	return hasCond == (want["conditions"] != nil)
}

// syncDirectory applies the Application/AppProject documents of <repo>@<rev>/<dir> and returns
// the commit it read.
func (d *argocdDouble) syncDirectory(ctx context.Context, app *unstructured.Unstructured, repo, rev, dir string) (string, error) {
	tmp, err := os.MkdirTemp("", "argocd-double-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	args := []string{"clone", "--quiet", "--depth", "1"}
	if rev != "" && rev != "HEAD" {
		args = append(args, "--branch", rev)
	}
	args = append(args, "--", repo, tmp)
	cmd := exec.CommandContext(cctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git clone %s@%s: %v: %s", repo, rev, err, strings.TrimSpace(string(out)))
	}
	out, err := exec.CommandContext(cctx, "git", "-C", tmp, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse: %v", err)
	}
	commit := strings.TrimSpace(string(out))
	root := filepath.Join(tmp, filepath.Clean("/"+dir))
	recurse, _, _ := unstructured.NestedBool(app.Object, "spec", "source", "directory", "recurse")
	var files []string
	if recurse {
		files = manifestFiles(root)
	} else {
		for _, f := range manifestFiles(root) {
			if filepath.Dir(f) == root {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return "", fmt.Errorf("%s@%s: path %s holds no manifests", repo, rev, dir)
	}
	appNS, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	var errs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		docs, err := decodeDocs(data)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", strings.TrimPrefix(f, tmp+"/"), err))
			continue
		}
		for _, doc := range docs {
			if doc.GetAPIVersion() != "argoproj.io/v1alpha1" || (doc.GetKind() != "Application" && doc.GetKind() != "AppProject") {
				continue // the double deploys no workloads
			}
			if doc.GetNamespace() == "" {
				doc.SetNamespace(appNS)
			}
			if err := d.apply.apply(ctx, doc); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("applying %s: %s", dir, strings.Join(errs, "; "))
	}
	return commit, nil
}
