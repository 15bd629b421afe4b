package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

//go:embed crds/*.yaml
var crdFS embed.FS

const fieldManager = "k3s-deploy"

// applier server-side-applies YAML documents through the dynamic client.
type applier struct {
	dyn     dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	manager string // server-side apply field manager
}

func newApplier(cfg *rest.Config) (*applier, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		manager: fieldManager}, nil
}

func decodeDocs(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, err
			}
			for i := range list.Items {
				out = append(out, &list.Items[i])
			}
			continue
		}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("document without apiVersion/kind")
		}
		out = append(out, u)
	}
}

// apply applies one object; namespaced objects without a namespace go to kube-system, as k3s's
// deploy controller does.
func (a *applier) apply(ctx context.Context, u *unstructured.Unstructured) error {
	return a.applyIn(ctx, u, "kube-system")
}

// applyIn applies one object; namespaced objects without a namespace go to defaultNS.
func (a *applier) applyIn(ctx context.Context, u *unstructured.Unstructured, defaultNS string) error {
	gvk := u.GroupVersionKind()
	mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		a.mapper.Reset() // a CRD applied just before may not be discovered yet
		if mapping, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
		}
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			u.SetNamespace(defaultNS)
		}
		ri = a.dyn.Resource(mapping.Resource).Namespace(u.GetNamespace())
	}
	force := true
	_, err = ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: a.manager, Force: force})
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
	}
	return nil
}

func (a *applier) applyData(ctx context.Context, data []byte) error {
	docs, err := decodeDocs(data)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range docs {
		if err := a.apply(ctx, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// installCRDs applies the HelmChart/HelmChartConfig CRDs (k3s ships them; HelmChart objects in
// manifests are stored, but no helm-controller acts on them in the double).
func installCRDs(ctx context.Context, cfg *rest.Config) error {
	a, err := newApplier(cfg)
	if err != nil {
		return err
	}
	entries, err := crdFS.ReadDir("crds")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := crdFS.ReadFile("crds/" + e.Name())
		if err != nil {
			return err
		}
		if err := a.applyData(ctx, data); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	return nil
}

func manifestFiles(dir string) []string {
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		ext := strings.ToLower(filepath.Ext(p))
		if ext != ".yaml" && ext != ".yml" && ext != ".json" {
			return nil
		}
		if _, err := os.Stat(p + ".skip"); err == nil { // k3s: <file>.skip disables a manifest
			return nil
		}
		files = append(files, p)
		return nil
	})
	sort.Strings(files)
	return files
}

// runDeployController applies every manifest under dir at start and whenever a file's content
// changes (polled every 5s); failed files are retried on the next pass.
func runDeployController(ctx context.Context, cfg *rest.Config, dir string) {
	a, err := newApplier(cfg)
	if err != nil {
		log.Printf("deploy controller: %v", err)
		return
	}
	applied := map[string]string{}
	for {
		for _, f := range manifestFiles(dir) {
			data, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			sum := sha256.Sum256(data)
			hash := hex.EncodeToString(sum[:])
			if applied[f] == hash {
				continue
			}
			if err := a.applyData(ctx, data); err != nil {
				log.Printf("deploy %s: %v (will retry)", f, err)
				continue
			}
			applied[f] = hash
			log.Printf("applied manifest %s", f)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}
