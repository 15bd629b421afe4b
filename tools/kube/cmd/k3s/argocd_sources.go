package main

// The ArgoCD double's sync (argocd_double.go): render an Application's source and server-side
// apply everything rendered, CRDs and Namespaces first. Directory sources come from a shallow
// `git clone` of repoURL at targetRevision (plain manifests; never pruned); Helm sources are
// rendered with the Helm v4 SDK like `helm template` when the chart source is embedded in the
// double (helm_sdk.go), and reported as not rendered otherwise.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// objRef names an applied object whose health ArgoCD's built-in checks assess.
type objRef struct{ kind, namespace, name string }

// syncResult is the outcome of one sync of one Application.
type syncResult struct {
	key         string   // uid/generation it was computed for
	revision    string   // commit or chart version
	notRendered string   // why the source was not rendered (no chart source here)
	compareErr  bool     // err is a ComparisonError (source unreadable or not renderable)
	err         string   // what went wrong (apply errors: SyncError)
	unserved    []string // kinds not applied because the cluster does not serve them (no CRD)
	applied     []objRef
	hooks       int // Helm hooks rendered but not run
}

func (d *argocdDouble) syncApp(ctx context.Context, app *unstructured.Unstructured) *syncResult {
	src, _, _ := unstructured.NestedMap(app.Object, "spec", "source")
	if src == nil {
		return &syncResult{compareErr: true, err: "test double: only single-source Applications (spec.source) are rendered"}
	}
	repo, _ := src["repoURL"].(string)
	chartName, _ := src["chart"].(string)
	rev, _ := src["targetRevision"].(string)
	dir, _ := src["path"].(string)
	destNS, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	var docs []*unstructured.Unstructured
	res := &syncResult{revision: rev}
	switch {
	case chartName != "":
		ch, err := loadEmbeddedChart(chartName, rev)
		var missing chartNotEmbedded
		if errors.As(err, &missing) {
			res.notRendered = fmt.Sprintf("test double: chart source not available, not rendered (chart %s %s from %s)",
				chartName, rev, repo)
			return res
		}
		if err == nil {
			var values map[string]any
			if values, err = helmValues(src); err == nil {
				release, _, _ := unstructured.NestedString(src, "helm", "releaseName")
				if release == "" {
					release = app.GetName()
				}
				rel, rerr := renderChart(d.cfg, ch, release, destNS, values)
				if err = rerr; err == nil {
					res.hooks = len(rel.Hooks)
					docs, err = decodeDocs([]byte(rel.Manifest))
				}
			}
		}
		if err != nil {
			return &syncResult{compareErr: true, err: fmt.Sprintf("test double: rendering chart %s %s: %v", chartName, rev, err)}
		}
	case repo != "" && dir != "":
		commit, files, cleanup, err := cloneDirectory(ctx, app, repo, rev, dir)
		defer cleanup()
		if err != nil {
			return &syncResult{compareErr: true, err: err.Error()}
		}
		res.revision = commit
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err == nil {
				var fdocs []*unstructured.Unstructured
				if fdocs, err = decodeDocs(data); err == nil {
					docs = append(docs, fdocs...)
					continue
				}
			}
			return &syncResult{compareErr: true, err: fmt.Sprintf("%s: %v", filepath.Base(f), err)}
		}
	default:
		return &syncResult{compareErr: true, err: "test double: source is neither a chart nor a repository path"}
	}
	res.applied, res.unserved, res.err = d.applyAll(ctx, docs, destNS)
	return res
}

// helmValues: spec.source.helm.values (YAML text) with spec.source.helm.valuesObject over it.
func helmValues(src map[string]any) (map[string]any, error) {
	values := map[string]any{}
	if text, _, _ := unstructured.NestedString(src, "helm", "values"); text != "" {
		if err := yaml.Unmarshal([]byte(text), &values); err != nil {
			return nil, fmt.Errorf("spec.source.helm.values: %w", err)
		}
	}
	if obj, ok, _ := unstructured.NestedMap(src, "helm", "valuesObject"); ok {
		values = loader.MergeMaps(values, obj)
	}
	if files, _, _ := unstructured.NestedStringSlice(src, "helm", "valueFiles"); len(files) > 0 {
		return nil, fmt.Errorf("spec.source.helm.valueFiles is not supported by the test double")
	}
	return values, nil
}

// applyOrder: CRDs, then Namespaces, then everything else, as ArgoCD orders kinds in a sync.
func applyOrder(kind string) int {
	switch kind {
	case "CustomResourceDefinition":
		return 0
	case "Namespace":
		return 1
	}
	return 2
}

// applyAll applies every document (namespaced objects without a namespace go to the destination
// namespace) and returns the objects whose health counts, the kinds the cluster does not serve,
// and the other errors joined ("" when all applied).
func (d *argocdDouble) applyAll(ctx context.Context, docs []*unstructured.Unstructured, destNS string) ([]objRef, []string, string) {
	sort.SliceStable(docs, func(i, j int) bool { return applyOrder(docs[i].GetKind()) < applyOrder(docs[j].GetKind()) })
	var refs []objRef
	var unserved, errs []string
	for _, doc := range docs {
		if err := d.apply.applyIn(ctx, doc, destNS); err != nil {
			if meta.IsNoMatchError(err) {
				if kind := doc.GetKind() + " (" + doc.GetAPIVersion() + ")"; !hasString(unserved, kind) {
					unserved = append(unserved, kind)
				}
			} else {
				errs = append(errs, err.Error())
			}
			continue
		}
		switch doc.GetKind() {
		case "Deployment", "StatefulSet", "DaemonSet", "PersistentVolumeClaim":
			refs = append(refs, objRef{doc.GetKind(), doc.GetNamespace(), doc.GetName()})
		}
	}
	if len(docs) == 0 {
		errs = append(errs, "test double: the source rendered no objects")
	}
	return refs, unserved, strings.Join(errs, "; ")
}

// cloneDirectory: a shallow clone of <repo>@<rev>, the commit, and the manifest files under dir
// (recursively when spec.source.directory.recurse). cleanup removes the clone.
func cloneDirectory(ctx context.Context, app *unstructured.Unstructured, repo, rev, dir string) (string, []string, func(), error) {
	tmp, err := os.MkdirTemp("", "argocd-double-")
	if err != nil {
		return "", nil, func() {}, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
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
		return "", nil, cleanup, fmt.Errorf("git clone %s@%s: %v: %s", repo, rev, err, strings.TrimSpace(string(out)))
	}
	out, err := exec.CommandContext(cctx, "git", "-C", tmp, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", nil, cleanup, fmt.Errorf("git rev-parse: %v", err)
	}
	root := filepath.Join(tmp, filepath.Clean("/"+dir))
	recurse, _, _ := unstructured.NestedBool(app.Object, "spec", "source", "directory", "recurse")
	var files []string
	for _, f := range manifestFiles(root) {
		if recurse || filepath.Dir(f) == root {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return "", nil, cleanup, fmt.Errorf("%s@%s: path %s holds no manifests", repo, rev, dir)
	}
	return strings.TrimSpace(string(out)), files, cleanup, nil
}
