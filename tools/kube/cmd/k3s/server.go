package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
)

const bootstrapSecret = "k3s-test-double-bootstrap"

// server holds the resolved settings of `k3s server`.
type server struct {
	s             Settings
	dataDir       string
	tlsDir        string
	credDir       string
	nodeName      string
	nodeIP        string
	port          int
	bindAddress   string
	kubeconfig    string
	kubeconfigMod os.FileMode
	password      string
	joinURL       string // non-empty when joining an existing cluster (HA server)
	etcdEndpoint  string
}

func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/rancher/k3s"
	}
	return filepath.Join(homeDir(), ".rancher", "k3s")
}

func defaultKubeconfig() string {
	if os.Geteuid() == 0 {
		return "/etc/rancher/k3s/k3s.yaml"
	}
	return filepath.Join(homeDir(), ".kube", "k3s.yaml")
}

// primaryIPv4 is the first IPv4 address of an up, non-loopback interface (no packets are sent).
func primaryIPv4() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return strings.ToLower(h)
}

// readToken returns the token from token / token-file (k3s: --token wins over --token-file).
func readToken(s Settings) (string, error) {
	if t := s.Get("token", ""); t != "" {
		return t, nil
	}
	if f := s.Get("token-file", ""); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("token-file: %w", err)
		}
		t := strings.TrimSpace(string(data))
		if t == "" {
			return "", fmt.Errorf("token-file %s is empty", f)
		}
		return t, nil
	}
	return "", nil
}

// tokenPassword extracts the password of a full "K10<hash>::<user>:<password>" token; a short
// token is its own password.
func tokenPassword(token string) string {
	if strings.HasPrefix(token, "K10") {
		if _, creds, ok := strings.Cut(token, "::"); ok {
			if _, pw, ok := strings.Cut(creds, ":"); ok {
				return pw
			}
		}
	}
	return token
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newServer(s Settings) (*server, error) {
	srv := &server{s: s}
	srv.dataDir = s.Get("data-dir", defaultDataDir())
	srv.tlsDir = filepath.Join(srv.dataDir, "server", "tls")
	srv.credDir = filepath.Join(srv.dataDir, "server", "cred")
	srv.nodeName = s.Get("node-name", hostname())
	srv.nodeIP = s.Get("node-ip", s.Get("advertise-address", primaryIPv4()))
	port, err := strconv.Atoi(s.Get("https-listen-port", "6443"))
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("https-listen-port: invalid port %q", s.Get("https-listen-port", ""))
	}
	srv.port = port
	srv.bindAddress = s.Get("bind-address", "0.0.0.0")
	srv.kubeconfig = s.Get("write-kubeconfig", defaultKubeconfig())
	mode, err := strconv.ParseUint(s.Get("write-kubeconfig-mode", "0600"), 8, 32)
	if err != nil {
		return nil, fmt.Errorf("write-kubeconfig-mode: %q is not an octal file mode", s.Get("write-kubeconfig-mode", ""))
	}
	srv.kubeconfigMod = os.FileMode(mode)
	srv.joinURL = s.Get("server", "")
	token, err := readToken(s)
	if err != nil {
		return nil, err
	}
	if srv.joinURL != "" && token == "" {
		return nil, errors.New("joining server " + srv.joinURL + " needs a token (token or token-file)")
	}
	srv.password = tokenPassword(token)
	return srv, nil
}

// serviceIP is the first address of the service CIDR (the kubernetes Service's ClusterIP).
func serviceIP(cidr string) string {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil || n.IP.To4() == nil {
		return "10.43.0.1"
	}
	ip := n.IP.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
}

// preparePKI writes CAs, serving/client certs, the SA key, token files and the static token
// file that lets agents (and joining servers) authenticate with the node token.
func (srv *server) preparePKI() error {
	if err := os.MkdirAll(srv.tlsDir, 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(srv.credDir, 0o700); err != nil {
		return err
	}
	serverCA, serverCAKey, err := ensureCA(srv.tlsDir, "server-ca", "k3s-server-ca")
	if err != nil {
		return fmt.Errorf("server CA: %w", err)
	}
	clientCA, clientCAKey, err := ensureCA(srv.tlsDir, "client-ca", "k3s-client-ca")
	if err != nil {
		return fmt.Errorf("client CA: %w", err)
	}
	sans := []string{
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
		"localhost", "127.0.0.1", "::1", srv.nodeIP, srv.nodeName, hostname(),
		serviceIP(srv.s.Get("service-cidr", "10.43.0.0/16")),
	}
	sans = append(sans, srv.s.List("tls-san")...)
	if err := ensureLeaf(filepath.Join(srv.tlsDir, "serving-kube-apiserver"), serverCA, serverCAKey,
		"kube-apiserver", nil, sans, false); err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	if err := ensureLeaf(filepath.Join(srv.tlsDir, "client-admin"), clientCA, clientCAKey,
		"system:admin", []string{"system:masters"}, nil, true); err != nil {
		return fmt.Errorf("admin client certificate: %w", err)
	}
	if err := ensureLeaf(filepath.Join(srv.tlsDir, "client-controller"), clientCA, clientCAKey,
		"system:kube-controller-manager", nil, nil, true); err != nil {
		return fmt.Errorf("controller-manager client certificate: %w", err)
	}
	if err := ensureSAKey(filepath.Join(srv.tlsDir, "service.key")); err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	return srv.writeTokens()
}

func (srv *server) writeTokens() error {
	tokenPath := filepath.Join(srv.dataDir, "server", "token")
	if srv.password == "" { // no token configured: reuse the generated one, else make one
		if data, err := os.ReadFile(tokenPath); err == nil {
			srv.password = tokenPassword(strings.TrimSpace(string(data)))
		} else {
			srv.password = randomHex(16)
		}
	}
	hash, err := caHash(filepath.Join(srv.tlsDir, "server-ca.crt"))
	if err != nil {
		return err
	}
	full := fmt.Sprintf("K10%s::server:%s\n", hash, srv.password)
	if err := atomicWrite(tokenPath, []byte(full), 0o600); err != nil {
		return err
	}
	nodeToken := filepath.Join(srv.dataDir, "server", "node-token")
	_ = os.Remove(nodeToken)
	if err := os.Symlink("token", nodeToken); err != nil {
		return err
	}
	agentToken := filepath.Join(srv.dataDir, "server", "agent-token")
	_ = os.Remove(agentToken)
	if err := os.Symlink("token", agentToken); err != nil {
		return err
	}
	// Static token authentication: the node token's password authenticates agents and joining
	// servers. (Real k3s exchanges it for per-node certificates; the double keeps it simple and
	// maps it to system:masters — acceptable for a test double, never for a real cluster.)
	passwd := fmt.Sprintf("%s,node,node,system:masters\n", srv.password)
	return atomicWrite(filepath.Join(srv.credDir, "passwd"), []byte(passwd), 0o600)
}

func atomicWrite(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// encryptionConfig writes an aescbc EncryptionConfiguration once (secrets-encryption: true).
func (srv *server) encryptionConfig() (string, error) {
	path := filepath.Join(srv.credDir, "encryption-config.json")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1",`+
		`"resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey","secret":%q}]}},`+
		`{"identity":{}}]}]}`, base64.StdEncoding.EncodeToString(key))
	return path, atomicWrite(path, []byte(cfg), 0o600)
}

func etcdPorts() (int, int) {
	// SHAI_K3S_DOUBLE_ETCD_PORTS=client,peer lets tests run several doubles on one host.
	if v := os.Getenv("SHAI_K3S_DOUBLE_ETCD_PORTS"); v != "" {
		c, p, _ := strings.Cut(v, ",")
		ci, err1 := strconv.Atoi(c)
		pi, err2 := strconv.Atoi(p)
		if err1 == nil && err2 == nil {
			return ci, pi
		}
	}
	return 2379, 2380
}

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return *u
}

// startEtcd runs an embedded single-member etcd. With cluster-init it also listens on the node IP
// so joining servers (HA) can share it.
func (srv *server) startEtcd() (*embed.Etcd, error) {
	clientPort, peerPort := etcdPorts()
	cfg := embed.NewConfig()
	cfg.Name = srv.nodeName
	cfg.Dir = filepath.Join(srv.dataDir, "server", "db", "etcd")
	local := mustURL(fmt.Sprintf("http://127.0.0.1:%d", clientPort))
	peer := mustURL(fmt.Sprintf("http://127.0.0.1:%d", peerPort))
	cfg.ListenClientUrls = []url.URL{local}
	cfg.AdvertiseClientUrls = []url.URL{local}
	if srv.s.Bool("cluster-init") && srv.nodeIP != "127.0.0.1" {
		shared := mustURL(fmt.Sprintf("http://%s:%d", srv.nodeIP, clientPort))
		cfg.ListenClientUrls = append(cfg.ListenClientUrls, shared)
		cfg.AdvertiseClientUrls = []url.URL{shared}
	}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = fmt.Sprintf("%s=%s", cfg.Name, peer.String())
	cfg.LogLevel = "warn"
	cfg.ListenMetricsUrls = nil
	if _, err := os.Stat(filepath.Join(cfg.Dir, "member")); err == nil {
		cfg.ClusterState = embed.ClusterStateFlagExisting
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("embedded etcd was not ready within 60s")
	}
	srv.etcdEndpoint = cfg.AdvertiseClientUrls[0].String()
	log.Printf("etcd ready (client %s, data %s)", srv.etcdEndpoint, cfg.Dir)
	return e, nil
}

func (srv *server) apiserverArgs(etcdServers string) ([]string, error) {
	t := func(name string) string { return filepath.Join(srv.tlsDir, name) }
	args := []string{
		"--etcd-servers=" + etcdServers,
		"--bind-address=" + srv.bindAddress,
		"--advertise-address=" + srv.nodeIP,
		"--secure-port=" + strconv.Itoa(srv.port),
		"--cert-dir=" + t("temporary-certs"),
		"--tls-cert-file=" + t("serving-kube-apiserver.crt"),
		"--tls-private-key-file=" + t("serving-kube-apiserver.key"),
		"--client-ca-file=" + t("client-ca.crt"),
		"--token-auth-file=" + filepath.Join(srv.credDir, "passwd"),
		"--service-account-issuer=https://kubernetes.default.svc." + srv.s.Get("cluster-domain", "cluster.local"),
		"--api-audiences=https://kubernetes.default.svc." + srv.s.Get("cluster-domain", "cluster.local") + ",k3s",
		"--service-account-key-file=" + t("service.key"),
		"--service-account-signing-key-file=" + t("service.key"),
		"--service-cluster-ip-range=" + srv.s.Get("service-cidr", "10.43.0.0/16"),
		"--authorization-mode=Node,RBAC",
		"--anonymous-auth=false", // as k3s: /readyz needs credentials
		"--allow-privileged=true",
		"--enable-admission-plugins=NodeRestriction",
		"--profiling=false",
		"--storage-backend=etcd3",
	}
	if ip := net.ParseIP(srv.nodeIP); ip != nil && ip.IsLoopback() {
		// A loopback address cannot be an endpoint of the `kubernetes` Service (tests only).
		args = append(args, "--endpoint-reconciler-type=none")
	}
	if srv.s.Bool("secrets-encryption") {
		p, err := srv.encryptionConfig()
		if err != nil {
			return nil, fmt.Errorf("secrets-encryption: %w", err)
		}
		args = append(args, "--encryption-provider-config="+p)
	}
	if v := srv.s.Get("v", ""); v != "" && v != "true" {
		args = append(args, "--v="+v)
	}
	for _, a := range srv.s.List("kube-apiserver-arg") {
		args = append(args, "--"+strings.TrimLeft(a, "-"))
	}
	return args, nil
}

func (srv *server) adminRESTConfig(host string) *rest.Config {
	return &rest.Config{
		Host: host,
		TLSClientConfig: rest.TLSClientConfig{
			CAFile:   filepath.Join(srv.tlsDir, "server-ca.crt"),
			CertFile: filepath.Join(srv.tlsDir, "client-admin.crt"),
			KeyFile:  filepath.Join(srv.tlsDir, "client-admin.key"),
		},
		QPS: 50, Burst: 100,
	}
}

func (srv *server) localURL() string { return fmt.Sprintf("https://127.0.0.1:%d", srv.port) }

// writeKubeconfig writes /etc/rancher/k3s/k3s.yaml (cluster/user/context "default", like k3s).
func (srv *server) writeKubeconfig(path, clientCert string, mode os.FileMode) error {
	ca, err := os.ReadFile(filepath.Join(srv.tlsDir, "server-ca.crt"))
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(filepath.Join(srv.tlsDir, clientCert+".crt"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(filepath.Join(srv.tlsDir, clientCert+".key"))
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["default"] = &clientcmdapi.Cluster{Server: srv.localURL(), CertificateAuthorityData: ca}
	cfg.AuthInfos["default"] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "default", AuthInfo: "default"}
	cfg.CurrentContext = "default"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return atomicWrite(path, data, mode)
}

func waitReady(ctx context.Context, cs kubernetes.Interface, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && strings.TrimSpace(string(body)) == "ok" {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("kube-apiserver not ready after %s: %v", timeout, last)
}

// sdNotify tells systemd (Type=notify units, as k3s.service) that startup finished.
func sdNotify(state string) {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return
	}
	if strings.HasPrefix(sock, "@") {
		sock = "\x00" + sock[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		log.Printf("sd_notify: %v", err)
		return
	}
	defer conn.Close()
	_, _ = conn.Write([]byte(state))
}

// startControllerManager re-executes this binary as kube-controller-manager (child process,
// killed with us) for namespace finalisation, service accounts, tokens and garbage collection.
func (srv *server) startControllerManager(ctx context.Context) (*exec.Cmd, error) {
	kc := filepath.Join(srv.credDir, "controller.kubeconfig")
	if err := srv.writeKubeconfig(kc, "client-controller", 0o600); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{
		"kube-controller-manager",
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--controllers=namespace,serviceaccount,serviceaccount-token,garbagecollector,clusterrole-aggregation",
		"--service-account-private-key-file=" + filepath.Join(srv.tlsDir, "service.key"),
		"--root-ca-file=" + filepath.Join(srv.tlsDir, "server-ca.crt"),
		"--use-service-account-credentials=true",
		"--secure-port=0",
		"--leader-elect=true",
	}
	for _, a := range srv.s.List("kube-controller-manager-arg") {
		args = append(args, "--"+strings.TrimLeft(a, "-"))
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	log.Printf("kube-controller-manager started (pid %d)", cmd.Process.Pid)
	return cmd, nil
}

func runServer(args []string) int {
	log.SetPrefix("k3s-test-double: ")
	log.SetFlags(log.LstdFlags)
	settings, err := loadSettings(args, "/etc/rancher/k3s/config.yaml")
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	if settings.Bool("cluster-reset") {
		return runClusterReset(settings)
	}
	srv, err := newServer(settings)
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	log.Printf("starting %s (k3s %s) node %q ip %s data-dir %s", doubleNote, k3sVersion, srv.nodeName, srv.nodeIP,
		srv.dataDir)
	if err := srv.run(); err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	return 0
}

func (srv *server) run() error {
	var etcdServers string
	var etcd *embed.Etcd
	if srv.joinURL != "" {
		endpoint, err := srv.joinCluster()
		if err != nil {
			return err
		}
		etcdServers = endpoint
	} else {
		if err := srv.preparePKI(); err != nil {
			return err
		}
		e, err := srv.startEtcd()
		if err != nil {
			return err
		}
		etcd = e
		defer etcd.Close()
		etcdServers = fmt.Sprintf("http://127.0.0.1:%d", func() int { c, _ := etcdPorts(); return c }())
	}
	apiArgs, err := srv.apiserverArgs(etcdServers)
	if err != nil {
		return err
	}
	// NewAPIServerCommand installs the process's SIGTERM/SIGINT handler; its context is ours too.
	cmd := apiserverapp.NewAPIServerCommand()
	cmd.SetArgs(apiArgs)
	ctx := cmd.Context()
	apiDone := make(chan error, 1)
	go func() { apiDone <- cmd.Execute() }()

	cs, err := kubernetes.NewForConfig(srv.adminRESTConfig(srv.localURL()))
	if err != nil {
		return err
	}
	readyCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case err := <-apiDone:
			log.Printf("kube-apiserver exited: %v", err)
			apiDone <- err
			cancel()
		case <-readyCtx.Done():
		}
	}()
	if err := waitReady(readyCtx, cs, 5*time.Minute); err != nil {
		cancel()
		select {
		case apiErr := <-apiDone:
			return fmt.Errorf("kube-apiserver exited before it was ready: %v", apiErr)
		case <-time.After(time.Second):
		}
		return err
	}
	cancel()
	log.Printf("kube-apiserver ready on %s:%d", srv.bindAddress, srv.port)
	if err := srv.writeKubeconfig(srv.kubeconfig, "client-admin", srv.kubeconfigMod); err != nil {
		return fmt.Errorf("write-kubeconfig %s: %w", srv.kubeconfig, err)
	}
	if etcd != nil {
		if err := srv.publishBootstrap(ctx, cs); err != nil {
			log.Printf("warning: publishing HA bootstrap data: %v", err)
		}
	}
	if etcd != nil && srv.s.Bool("cluster-init") {
		if err := srv.startSnapshotSchedule(ctx); err != nil {
			return err
		}
	} else if etcd != nil && srv.s.Bool("etcd-s3") {
		log.Print(s3Unverified)
	}
	if err := installCRDs(ctx, srv.adminRESTConfig(srv.localURL())); err != nil {
		log.Printf("warning: installing HelmChart CRDs: %v", err)
	}
	var kcm *exec.Cmd
	if !srv.s.Bool("disable-controller-manager") {
		if kcm, err = srv.startControllerManager(ctx); err != nil {
			log.Printf("warning: kube-controller-manager: %v", err)
		}
	}
	labels := map[string]string{
		"node-role.kubernetes.io/control-plane": "true",
		"node-role.kubernetes.io/master":        "true",
	}
	if srv.s.Bool("cluster-init") || srv.joinURL != "" {
		labels["node-role.kubernetes.io/etcd"] = "true"
	}
	node := nodeSpec{name: srv.nodeName, ip: srv.nodeIP, labels: labels, s: srv.s}
	go node.keepRegistered(ctx, cs)
	manifests := filepath.Join(srv.dataDir, "server", "manifests")
	if err := os.MkdirAll(manifests, 0o700); err != nil {
		return err
	}
	go runDeployController(ctx, srv.adminRESTConfig(srv.localURL()), manifests)
	// Opt-in TEST DOUBLE controllers (helm_double.go, argocd_double.go); off unless listed.
	doubles := enabledDoubleControllers(os.Getenv(doubleControllersEnv))
	if doubles["helm-controller"] && !srv.s.Bool("disable-helm-controller") {
		go runHelmControllerDouble(ctx, srv.adminRESTConfig(srv.localURL()))
	}
	if doubles["argocd"] {
		go runArgoCDDouble(ctx, srv.adminRESTConfig(srv.localURL()))
	}
	sdNotify("READY=1")
	log.Printf("ready: kubeconfig %s, token %s", srv.kubeconfig, filepath.Join(srv.dataDir, "server", "token"))

	select {
	case <-ctx.Done():
	case err := <-apiDone: // the API server stopped on its own: exit non-zero so systemd restarts us
		sdNotify("STOPPING=1")
		return fmt.Errorf("kube-apiserver stopped: %v", err)
	}
	log.Printf("shutting down")
	sdNotify("STOPPING=1")
	select {
	case <-apiDone:
	case <-time.After(70 * time.Second):
	}
	if kcm != nil {
		_ = kcm.Wait()
	}
	return nil
}

// publishBootstrap stores what a joining server needs (CAs, SA key, encryption config, etcd
// endpoint) in a kube-system Secret, readable only with cluster-admin credentials.
func (srv *server) publishBootstrap(ctx context.Context, cs kubernetes.Interface) error {
	data := map[string][]byte{"etcd-endpoint": []byte(srv.etcdEndpoint)}
	for _, f := range []string{"server-ca.crt", "server-ca.key", "client-ca.crt", "client-ca.key", "service.key"} {
		b, err := os.ReadFile(filepath.Join(srv.tlsDir, f))
		if err != nil {
			return err
		}
		data["tls."+f] = b
	}
	if b, err := os.ReadFile(filepath.Join(srv.credDir, "encryption-config.json")); err == nil {
		data["cred.encryption-config.json"] = b
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstrapSecret, Namespace: "kube-system"},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	_, err := cs.CoreV1().Secrets("kube-system").Create(ctx, sec, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = cs.CoreV1().Secrets("kube-system").Update(ctx, sec, metav1.UpdateOptions{})
	}
	return err
}

// joinCluster fetches bootstrap data from the first server with the node token and prepares a
// local API server that shares the first server's etcd (the double's stand-in for k3s HA).
func (srv *server) joinCluster() (string, error) {
	cs, err := kubernetes.NewForConfig(tokenRESTConfig(srv.joinURL, srv.password))
	if err != nil {
		return "", err
	}
	var sec *corev1.Secret
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		sec, err = cs.CoreV1().Secrets("kube-system").Get(ctx, bootstrapSecret, metav1.GetOptions{})
		cancel()
		if err == nil {
			break
		}
		if apierrors.IsUnauthorized(err) {
			return "", fmt.Errorf("joining %s: the token was rejected (401): check token/token-file", srv.joinURL)
		}
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("joining %s: that server was not started with cluster-init, so it has "+
				"no shared datastore to join", srv.joinURL)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("joining %s: server unreachable for 5m: %w", srv.joinURL, err)
		}
		log.Printf("waiting for server %s: %v", srv.joinURL, err)
		time.Sleep(5 * time.Second)
	}
	for k, v := range sec.Data {
		dir, name, _ := strings.Cut(k, ".")
		target := srv.tlsDir
		if dir == "cred" {
			target = srv.credDir
		} else if dir != "tls" {
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".key") || dir == "cred" {
			mode = 0o600
		}
		if err := atomicWrite(filepath.Join(target, name), v, mode); err != nil {
			return "", err
		}
	}
	if err := srv.preparePKI(); err != nil {
		return "", err
	}
	endpoint := string(sec.Data["etcd-endpoint"])
	if strings.Contains(endpoint, "127.0.0.1") {
		return "", fmt.Errorf("joining %s: its etcd listens on loopback only (node-ip 127.0.0.1)", srv.joinURL)
	}
	log.Printf("joined %s: sharing datastore %s", srv.joinURL, endpoint)
	return endpoint, nil
}
