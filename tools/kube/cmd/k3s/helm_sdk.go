package main

// The Helm v4 SDK (helm.sh/helm/v4/pkg/action) as the two controller doubles use it, on the
// upstream chart sources embedded in the binary.
//
// charts/<chart>/<version>/<chart>/ holds the unmodified upstream chart sources of the bootstrap
// charts (sealed-secrets, argo-cd), the same layout as the shared chart test data. They are not
// kept in git: tools/build.sh stages them from $SHAI_SHARED_CHARTS (else ../shared/charts, else
// /work/shared/charts) before it builds the double, because go:embed cannot reach outside the Go
// module. A chart that is not embedded cannot be installed or rendered: the doubles say so.

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// all: keeps the charts' _helpers.tpl and .helmignore (go:embed skips _ and . files otherwise).
//
//go:embed all:charts
var chartsFS embed.FS

// chartNotEmbedded is the error of a chart whose source is not in the binary.
type chartNotEmbedded struct{ chart, version string }

func (e chartNotEmbedded) Error() string {
	return fmt.Sprintf("chart source %s %s not available to the k3s test double (not embedded at build time)",
		e.chart, e.version)
}

var (
	chartDirsMu sync.Mutex
	chartDirs   = map[string]string{} // chart/version -> extracted directory
)

// loadEmbeddedChart loads charts/<chart>/<version>/<chart> with Helm's own directory loader
// (.helmignore applied). The source is extracted once per process into a temp directory; the
// chart is loaded afresh every time (Helm mutates a loaded chart while processing dependencies).
func loadEmbeddedChart(name, version string) (*chart.Chart, error) {
	root := path.Join("charts", name, version, name)
	if _, err := fs.Stat(chartsFS, path.Join(root, "Chart.yaml")); err != nil {
		return nil, chartNotEmbedded{name, version}
	}
	chartDirsMu.Lock()
	dir, ok := chartDirs[name+"/"+version]
	if !ok {
		tmp, err := os.MkdirTemp("", "k3s-double-chart-")
		if err == nil {
			err = extractFS(root, tmp)
		}
		if err != nil {
			chartDirsMu.Unlock()
			return nil, fmt.Errorf("extracting chart %s %s: %w", name, version, err)
		}
		dir = filepath.Join(tmp, name)
		chartDirs[name+"/"+version] = dir
	}
	chartDirsMu.Unlock()
	return loader.LoadDir(dir)
}

func extractFS(root, dest string) error {
	base := path.Dir(root)
	return fs.WalkDir(chartsFS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		target := filepath.Join(dest, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := chartsFS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// restGetter is the RESTClientGetter Helm's kube client needs, on the double's admin config.
type restGetter struct {
	cfg       *rest.Config
	namespace string
}

func (g restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(g.cfg)
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewDeferredDiscoveryRESTMapper(dc), nil
}

func (g restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(),
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}

var _ genericclioptions.RESTClientGetter = restGetter{}

// helmConfig is an action.Configuration against the cluster for one namespace, storing releases
// as Helm does by default (Secrets sh.helm.release.v1.<release>.v<revision>).
func helmConfig(cfg *rest.Config, namespace string, logger *slog.Logger) (*action.Configuration, error) {
	ac := action.NewConfiguration(action.ConfigurationSetLogger(logger.Handler()))
	if err := ac.Init(restGetter{cfg: cfg, namespace: namespace}, namespace, "secret"); err != nil {
		return nil, err
	}
	if kc, ok := ac.KubeClient.(*kube.Client); ok {
		kc.Namespace = namespace
	}
	return ac, nil
}

// renderChart is `helm template` with the SDK, as ArgoCD renders a Helm source: client-only,
// CRDs included, the cluster's version and API versions as capabilities. Hooks are returned
// apart (ArgoCD would run them as sync hooks; the double does not run them).
func renderChart(cfg *rest.Config, ch *chart.Chart, releaseName, namespace string, values map[string]any) (*release.Release, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	sv, err := dc.ServerVersion()
	if err != nil {
		return nil, err
	}
	kv, err := common.ParseKubeVersion(sv.GitVersion)
	if err != nil {
		return nil, err
	}
	apis, err := action.GetVersionSet(dc)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, err
	}
	inst := action.NewInstall(action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler)))
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	inst.IncludeCRDs = true
	inst.KubeVersion = kv
	inst.APIVersions = apis
	inst.WaitStrategy = kube.HookOnlyStrategy
	r, err := inst.Run(ch, values)
	if err != nil {
		return nil, err
	}
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("unexpected release type %T", r)
	}
	return rel, nil
}

// sameJSON: two value trees are equal once both are JSON (YAML numbers vs stored release JSON).
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
