package main

// etcd snapshots as k3s takes them, on the double's REAL embedded etcd: the etcd snapshot API
// (clientv3 Maintenance.Snapshot, with its sha256 trailer) to save, etcdutl's restore to restore.
// The surface is k3s's: the etcd-snapshot-* server options, `k3s etcd-snapshot save|ls|delete|prune`
// and `k3s server --cluster-reset --cluster-reset-restore-path=FILE`. Not implemented (the double
// says so): S3 upload/download, ETCDSnapshotFile resources, snapshots on joined servers (they share
// the first server's etcd in the double). See docs/backup.md.

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"
	clientv3 "go.etcd.io/etcd/client/v3"
	clientsnapshot "go.etcd.io/etcd/client/v3/snapshot"
	utlsnapshot "go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

const s3Unverified = "unverified: S3 not supported by the test double; etcd-s3 ignored, snapshots are kept locally only"

// snapshotOptions are the etcd-snapshot-* settings of a server (config.yaml, env, flags).
type snapshotOptions struct {
	dataDir   string
	nodeName  string
	dir       string
	compress  bool
	retention int
	cron      string
	name      string // base name of scheduled snapshots
	disabled  bool
	s3        bool
}

func newSnapshotOptions(s Settings) (snapshotOptions, error) {
	o := snapshotOptions{
		dataDir:  s.Get("data-dir", defaultDataDir()),
		nodeName: s.Get("node-name", hostname()),
		compress: s.Bool("etcd-snapshot-compress"),
		cron:     s.Get("etcd-snapshot-schedule-cron", "0 */12 * * *"),
		name:     s.Get("etcd-snapshot-name", "etcd-snapshot"),
		disabled: s.Bool("etcd-disable-snapshots"),
		s3:       s.Bool("etcd-s3"),
	}
	o.dir = s.Get("etcd-snapshot-dir", filepath.Join(o.dataDir, "server", "db", "snapshots"))
	r, err := strconv.Atoi(s.Get("etcd-snapshot-retention", "5"))
	if err != nil || r < 1 {
		return o, fmt.Errorf("etcd-snapshot-retention: %q is not a positive number", s.Get("etcd-snapshot-retention", ""))
	}
	o.retention = r
	return o, nil
}

// usesEtcd says whether this server keeps its state in embedded etcd (k3s: cluster-init, or a
// server joining one, with an etcd data directory). Otherwise real k3s uses SQLite (kine).
func usesEtcd(s Settings, dataDir string) error {
	if !s.Bool("cluster-init") && s.Get("server", "") == "" {
		return errors.New("this server has no embedded etcd (no cluster-init): k3s keeps SQLite, which has no etcd snapshots")
	}
	if s.Get("server", "") != "" {
		return errors.New("in the " + doubleNote + " a joined server shares the first server's etcd: take and restore " +
			"snapshots on the first server")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "server", "db", "etcd")); err != nil {
		return fmt.Errorf("etcd database not found in %s", filepath.Join(dataDir, "server", "db", "etcd"))
	}
	return nil
}

func localEtcdEndpoint() string {
	c, _ := etcdPorts()
	return fmt.Sprintf("http://127.0.0.1:%d", c)
}

// snapshotName is k3s's: <base>-<node>-<unix seconds>.
func snapshotName(base, node string, now time.Time) string {
	return fmt.Sprintf("%s-%s-%d", base, node, now.Unix())
}

// saveSnapshot streams a snapshot from the etcd at endpoint into o.dir (zipped when compress).
func saveSnapshot(ctx context.Context, endpoint string, o snapshotOptions, base string) (string, error) {
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return "", err
	}
	name := snapshotName(base, o.nodeName, time.Now())
	path := filepath.Join(o.dir, name)
	cfg := clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 10 * time.Second}
	if _, err := clientsnapshot.SaveWithVersion(ctx, zap.NewNop(), cfg, path); err != nil {
		return "", fmt.Errorf("etcd snapshot from %s: %w", endpoint, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return "", err
	}
	if !o.compress {
		return path, nil
	}
	zipped, err := zipSnapshot(path)
	if err != nil {
		return "", err
	}
	return zipped, os.Remove(path)
}

// zipSnapshot writes <path>.zip holding one entry named like the snapshot (as k3s compresses).
func zipSnapshot(path string) (string, error) {
	out := path + ".zip"
	tmp := out + ".part"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	defer func() { _ = os.Remove(tmp) }()
	zw := zip.NewWriter(f)
	src, err := os.Open(path)
	if err != nil {
		_ = f.Close()
		return "", err
	}
	defer src.Close()
	w, err := zw.Create(filepath.Base(path))
	if err == nil {
		_, err = io.Copy(w, src)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("compressing %s: %w", path, err)
	}
	return out, os.Rename(tmp, out)
}

// unzipSnapshot extracts the single snapshot of a k3s .zip into dir and returns its path.
func unzipSnapshot(path, dir string) (string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		return "", fmt.Errorf("%s: expected one snapshot inside, found %d files", path, len(zr.File))
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	out := filepath.Join(dir, filepath.Base(strings.TrimSuffix(path, ".zip")))
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, rc); err != nil {
		_ = f.Close()
		return "", err
	}
	return out, f.Close()
}

type snapshotFile struct {
	name    string // without .zip
	path    string
	size    int64
	created time.Time
}

// listSnapshots returns the snapshots in dir, oldest first (ties by name).
func listSnapshots(dir string) ([]snapshotFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []snapshotFile
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".part") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, snapshotFile{
			name: strings.TrimSuffix(e.Name(), ".zip"), path: filepath.Join(dir, e.Name()),
			size: info.Size(), created: info.ModTime(),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].name < out[j].name
	})
	return out, nil
}

// pruneSnapshots keeps the newest `retention` snapshots named <base>-<node>-*; returns the removed.
func pruneSnapshots(o snapshotOptions, base string, retention int) ([]string, error) {
	all, err := listSnapshots(o.dir)
	if err != nil {
		return nil, err
	}
	prefix := base + "-" + o.nodeName + "-"
	var mine []snapshotFile
	for _, s := range all {
		if strings.HasPrefix(s.name, prefix) {
			mine = append(mine, s)
		}
	}
	var removed []string
	for len(mine) > retention {
		if err := os.Remove(mine[0].path); err != nil {
			return removed, err
		}
		removed = append(removed, mine[0].name)
		mine = mine[1:]
	}
	return removed, nil
}

// restoreSnapshot is `--cluster-reset --cluster-reset-restore-path`: the current etcd data moves
// to db/etcd-old-<unix>, the snapshot is restored into db/etcd as a new one-member cluster
// (etcdutl snapshot restore, hash checked).
func restoreSnapshot(dataDir, nodeName, snapshotPath string) (string, error) {
	if _, err := os.Stat(snapshotPath); err != nil {
		return "", fmt.Errorf("cluster-reset-restore-path: %w", err)
	}
	dbDir := filepath.Join(dataDir, "server", "db")
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return "", err
	}
	tmpDir, err := os.MkdirTemp(dbDir, ".restore-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmpDir)
	src := snapshotPath
	if strings.HasSuffix(snapshotPath, ".zip") {
		if src, err = unzipSnapshot(snapshotPath, tmpDir); err != nil {
			return "", err
		}
	}
	_, peerPort := etcdPorts()
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	restored := filepath.Join(tmpDir, "etcd")
	err = utlsnapshot.NewV3(zap.NewNop()).Restore(utlsnapshot.RestoreConfig{
		SnapshotPath:        src,
		Name:                nodeName,
		OutputDataDir:       restored,
		PeerURLs:            []string{peer},
		InitialCluster:      nodeName + "=" + peer,
		InitialClusterToken: "etcd-cluster", // embed's default, as startEtcd uses
	})
	if err != nil {
		return "", fmt.Errorf("restoring %s: %w", snapshotPath, err)
	}
	current := filepath.Join(dbDir, "etcd")
	old := ""
	if _, err := os.Stat(current); err == nil {
		old = filepath.Join(dbDir, fmt.Sprintf("etcd-old-%d", time.Now().Unix()))
		if err := os.Rename(current, old); err != nil {
			return "", err
		}
	}
	if err := os.Rename(restored, current); err != nil {
		return "", err
	}
	return old, nil
}

// runClusterReset handles `k3s server --cluster-reset [--cluster-reset-restore-path=FILE]` and
// exits like k3s: the data is reset/restored, then it says to restart without the flags.
func runClusterReset(s Settings) int {
	dataDir := s.Get("data-dir", defaultDataDir())
	path := s.Get("cluster-reset-restore-path", "")
	if err := usesEtcd(s, dataDir); err != nil {
		// Restoring onto a node whose etcd data is gone is what a restore is for.
		if path == "" || !strings.HasPrefix(err.Error(), "etcd database not found") {
			log.Printf("error: cluster-reset: %v", err)
			return 1
		}
	}
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(localEtcdEndpoint(), "http://"), time.Second); err == nil {
		_ = conn.Close()
		log.Printf("error: cluster-reset: etcd is running on %s: stop k3s first (systemctl stop k3s)", localEtcdEndpoint())
		return 1
	}
	if path == "" {
		// One-member etcd: nothing to forget; k3s would drop the other members here.
		log.Printf("Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. " +
			"Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes")
		return 0
	}
	old, err := restoreSnapshot(dataDir, s.Get("node-name", hostname()), path)
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	if old != "" {
		log.Printf("moved the previous etcd data to %s", old)
	}
	log.Printf("restored etcd snapshot %s into %s", path, filepath.Join(dataDir, "server", "db", "etcd"))
	log.Printf("Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. " +
		"Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes")
	return 0
}

// subcommandAliases: `k3s etcd-snapshot` accepts the server flags without their etcd- prefix.
var subcommandAliases = map[string]string{
	"dir": "etcd-snapshot-dir", "snapshot-compress": "etcd-snapshot-compress", "compress": "etcd-snapshot-compress",
	"snapshot-retention": "etcd-snapshot-retention", "s3": "etcd-s3",
}

func init() {
	for _, k := range []string{"etcd-snapshot-compress", "etcd-s3", "etcd-s3-skip-ssl-verify", "etcd-s3-insecure"} {
		boolOptions[k] = true
	}
	boolOptions["s3"], boolOptions["snapshot-compress"], boolOptions["compress"] = true, true, true
	for _, k := range []string{"etcd-snapshot-dir", "etcd-snapshot-retention", "etcd-snapshot-schedule-cron",
		"etcd-snapshot-name", "cluster-reset-restore-path", "name"} {
		known[k] = true
	}
}

func etcdSnapshotUsage() {
	fmt.Fprintf(os.Stderr, `Usage: k3s etcd-snapshot COMMAND [flags] (%s)

Commands:
  save [--name NAME]        take an on-demand snapshot (NAME-<node>-<unix time>, default on-demand)
  ls | list | l             list the snapshots in the snapshot directory (Name, Location, Size, Created)
  delete NAME...            delete snapshots
  prune [--name NAME] [--snapshot-retention N]   keep the newest N snapshots of NAME (default on-demand)

Flags: --config, --data-dir, --node-name, --dir/--etcd-snapshot-dir, --snapshot-compress/--etcd-snapshot-compress.
S3 (--s3, --etcd-s3*) is not supported by the test double: %s.
`, doubleNote, s3Unverified)
}

// runEtcdSnapshot implements `k3s etcd-snapshot SUBCOMMAND`.
func runEtcdSnapshot(args []string) int {
	log.SetPrefix("k3s-test-double: ")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		etcdSnapshotUsage()
		return 1
	}
	sub, rest := args[0], args[1:]
	var names, flags []string
	for i := 0; i < len(rest); i++ { // delete takes snapshot names as arguments
		a := rest[i]
		if !strings.HasPrefix(a, "-") {
			names = append(names, a)
			continue
		}
		flags = append(flags, a)
		if needsValue(a) && i+1 < len(rest) {
			i++
			flags = append(flags, rest[i])
		}
	}
	for i, f := range flags {
		name := strings.TrimLeft(f, "-")
		k, v, hasValue := strings.Cut(name, "=")
		if alias, ok := subcommandAliases[k]; ok && strings.HasPrefix(f, "-") {
			flags[i] = "--" + alias
			if hasValue {
				flags[i] += "=" + v
			}
		} else if strings.HasPrefix(k, "s3-") && strings.HasPrefix(f, "-") {
			flags[i] = "--etcd-" + name
		}
	}
	s, err := loadSettings(flags, "/etc/rancher/k3s/config.yaml")
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	o, err := newSnapshotOptions(s)
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	if o.s3 {
		log.Print(s3Unverified)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	switch sub {
	case "save":
		if err := usesEtcd(s, o.dataDir); err != nil {
			log.Printf("error: etcd-snapshot save: %v", err)
			return 1
		}
		path, err := saveSnapshot(ctx, localEtcdEndpoint(), o, s.Get("name", "on-demand"))
		if err != nil {
			log.Printf("error: %v", err)
			return 1
		}
		log.Printf("Snapshot %s saved.", filepath.Base(path))
		fmt.Println("Snapshot " + strings.TrimSuffix(filepath.Base(path), ".zip") + " saved.")
	case "ls", "list", "l":
		if err := usesEtcd(s, o.dataDir); err != nil {
			log.Printf("error: etcd-snapshot ls: %v", err)
			return 1
		}
		snaps, err := listSnapshots(o.dir)
		if err != nil {
			log.Printf("error: %v", err)
			return 1
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 1, ' ', 0)
		fmt.Fprint(w, "Name\tLocation\tSize\tCreated\n")
		for _, sn := range snaps {
			fmt.Fprintf(w, "%s\tfile://%s\t%d\t%s\n", filepath.Base(sn.path), sn.path, sn.size,
				sn.created.UTC().Format(time.RFC3339))
		}
		_ = w.Flush()
	case "delete", "rm":
		if len(names) == 0 {
			log.Print("error: etcd-snapshot delete: name which snapshot(s) to delete")
			return 1
		}
		rc := 0
		for _, n := range names {
			n = filepath.Base(n)
			removed := false
			for _, p := range []string{filepath.Join(o.dir, n), filepath.Join(o.dir, n+".zip")} {
				if err := os.Remove(p); err == nil {
					removed = true
					fmt.Printf("Snapshot %s deleted.\n", filepath.Base(p))
				}
			}
			if !removed {
				log.Printf("error: snapshot %s not found in %s", n, o.dir)
				rc = 1
			}
		}
		return rc
	case "prune":
		removed, err := pruneSnapshots(o, s.Get("name", "on-demand"), o.retention)
		for _, r := range removed {
			fmt.Printf("Snapshot %s deleted.\n", r)
		}
		if err != nil {
			log.Printf("error: %v", err)
			return 1
		}
	default:
		log.Printf("error: etcd-snapshot: unknown subcommand %q", sub)
		etcdSnapshotUsage()
		return 1
	}
	return 0
}

// needsValue says whether a flag without "=" takes the next argument as its value.
func needsValue(flag string) bool {
	if strings.Contains(flag, "=") {
		return false
	}
	name := strings.TrimLeft(flag, "-")
	if long, ok := shortFlags[name]; ok && !strings.HasPrefix(flag, "--") {
		name = long
	}
	if alias, ok := subcommandAliases[name]; ok {
		name = alias
	}
	return !boolOptions[name]
}

// startSnapshotSchedule takes scheduled snapshots (etcd-snapshot-schedule-cron, local time) of the
// local etcd and prunes them to etcd-snapshot-retention, like k3s. The double also accepts an
// optional leading seconds field (tests schedule every few seconds); the k3s role allows five fields.
func (srv *server) startSnapshotSchedule(ctx context.Context) error {
	o, err := newSnapshotOptions(srv.s)
	if err != nil {
		return err
	}
	if o.s3 {
		log.Print(s3Unverified)
	}
	if o.disabled {
		log.Printf("etcd snapshots: disabled (etcd-disable-snapshots)")
		return nil
	}
	parser := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sched, err := parser.Parse(o.cron)
	if err != nil {
		return fmt.Errorf("etcd-snapshot-schedule-cron %q: %w", o.cron, err)
	}
	c := cron.New(cron.WithParser(parser))
	c.Schedule(sched, cron.FuncJob(func() {
		path, err := saveSnapshot(ctx, localEtcdEndpoint(), o, o.name)
		if err != nil {
			log.Printf("error: scheduled etcd snapshot: %v", err)
			return
		}
		log.Printf("scheduled etcd snapshot saved: %s", path)
		removed, err := pruneSnapshots(o, o.name, o.retention)
		if err != nil {
			log.Printf("error: pruning etcd snapshots: %v", err)
		}
		for _, r := range removed {
			log.Printf("pruned etcd snapshot %s (retention %d)", r, o.retention)
		}
	}))
	c.Start()
	go func() {
		<-ctx.Done()
		c.Stop()
	}()
	log.Printf("etcd snapshots: schedule %q, retention %d, dir %s", o.cron, o.retention, o.dir)
	return nil
}
