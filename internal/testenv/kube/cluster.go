package kube

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options configures Start. The zero value is a valid configuration.
type Options struct {
	// BinDir holds the binaries built by internal/testenv/cluster/build.sh.
	// Empty means BinDir().
	BinDir string
	// Nodes is the number of kwok nodes; 0 means 3.
	Nodes int
	// PodStages are opt-in kwok stages added to the defaults, e.g. to make
	// pods running a given image never become Ready.
	PodStages []PodStage
	// Timeout bounds Start; 0 means two minutes, enough on a loaded machine.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.BinDir == "" {
		o.BinDir = BinDir()
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	return o
}

// Cluster is a running control plane: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, all on 127.0.0.1, with
// their state and logs in one temporary directory. Its methods are safe for
// concurrent use.
type Cluster struct {
	opts       Options
	bins       binaries
	dir        string
	pki        *pki
	ports      ports
	config     *rest.Config
	client     kubernetes.Interface
	kubeconfig string
	started    time.Duration

	mu    sync.Mutex // guards procs
	procs []*process
	stop  sync.Once
}

type ports struct{ etcdClient, etcdPeer, apiserver int }

// Start starts a cluster and returns once the API server is ready, the kwok
// nodes are Ready and schedulable, and the default ServiceAccount exists. On
// error nothing is left running and the error includes the components' logs.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	begin := time.Now()
	if err := supported(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	bins, err := findBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "jibe-kube-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, bins: bins, dir: dir}
	defer func() {
		if err != nil {
			err = fmt.Errorf("kube: start cluster: %w\n%s", err, c.logTails(40))
			c.Stop()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	steps := []func(context.Context) error{
		c.prepare, c.startEtcd, c.startAPIServer, c.waitAPIServer,
		c.startControllers, c.createNodes, c.waitNodes, c.waitDefaultServiceAccount,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	c.started = time.Since(begin)
	return c, nil
}

// prepare writes the PKI, the kubeconfig and kwok's stages, and picks ports.
func (c *Cluster) prepare(context.Context) error {
	pkiDir := filepath.Join(c.dir, "pki")
	if err := os.Mkdir(pkiDir, 0o700); err != nil {
		return err
	}
	var err error
	if c.pki, err = writePKI(pkiDir); err != nil {
		return err
	}
	free, err := freePorts(3)
	if err != nil {
		return err
	}
	c.ports = ports{etcdClient: free[0], etcdPeer: free[1], apiserver: free[2]}
	if err := c.writeAdminConfig(); err != nil {
		return err
	}
	stages, err := kwokConfig(c.opts.PodStages)
	if err != nil {
		return err
	}
	return os.WriteFile(c.path("kwok.yaml"), stages, 0o600)
}

func (c *Cluster) path(name string) string { return filepath.Join(c.dir, name) }

func (c *Cluster) server() string { return "https://127.0.0.1:" + strconv.Itoa(c.ports.apiserver) }

// writeAdminConfig builds the admin rest.Config and writes it as a kubeconfig
// for the other components and for humans (kubectl --kubeconfig).
func (c *Cluster) writeAdminConfig() error {
	cfg := &rest.Config{
		Host: c.server(),
		TLSClientConfig: rest.TLSClientConfig{
			CAFile:   c.pki.path(caCertFile),
			CertFile: c.pki.path(adminCert),
			KeyFile:  c.pki.path(adminKey),
		},
		QPS:   200,
		Burst: 400,
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c.config, c.client = cfg, client
	c.kubeconfig = c.path("admin.kubeconfig")
	return clientcmd.WriteToFile(kubeconfigFor(cfg, "admin", &clientcmdapi.AuthInfo{
		ClientCertificate: cfg.CertFile, ClientKey: cfg.KeyFile,
	}), c.kubeconfig)
}

// kubeconfigFor returns a one-context kubeconfig for cfg's server.
func kubeconfigFor(cfg *rest.Config, user string, auth *clientcmdapi.AuthInfo) clientcmdapi.Config {
	cluster := &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile, CertificateAuthorityData: cfg.CAData}
	return clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"jibe-testenv": cluster},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{user: auth},
		Contexts:       map[string]*clientcmdapi.Context{"jibe-testenv": {Cluster: "jibe-testenv", AuthInfo: user}},
		CurrentContext: "jibe-testenv",
	}
}

func (c *Cluster) startEtcd(context.Context) error {
	client := "http://127.0.0.1:" + strconv.Itoa(c.ports.etcdClient)
	peer := "http://127.0.0.1:" + strconv.Itoa(c.ports.etcdPeer)
	return c.run("etcd",
		"--name=testenv",
		"--data-dir="+c.path("etcd"),
		"--listen-client-urls="+client,
		"--advertise-client-urls="+client,
		"--listen-peer-urls="+peer,
		"--initial-advertise-peer-urls="+peer,
		"--initial-cluster=testenv="+peer,
		"--unsafe-no-fsync", // The data is thrown away; fsync only costs time.
		"--log-level=warn",
	)
}

func (c *Cluster) startAPIServer(context.Context) error {
	p := c.pki.path
	return c.run("kube-apiserver",
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(c.ports.etcdClient),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.ports.apiserver),
		// The default reconciler rejects a loopback advertise address.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+p(servingCert),
		"--tls-private-key-file="+p(servingKey),
		"--client-ca-file="+p(caCertFile),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p(saVerifyingKey),
		"--service-account-signing-key-file="+p(saSigningKey),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--cert-dir="+c.path("apiserver-certs"),
		"--profiling=false",
	)
}

// The client rate limits of kube-controller-manager and kube-scheduler:
// kwokctl's --disable-qps-limits values (kwok's own client is unlimited).
const (
	unlimitedQPS   = "5000"
	unlimitedBurst = "10000"
)

// startControllers starts kube-controller-manager, kube-scheduler and kwok,
// which all talk to the API server as the admin user.
func (c *Cluster) startControllers(context.Context) error {
	p := c.pki.path
	kubeconfig := "--kubeconfig=" + c.kubeconfig
	if err := c.run("kube-controller-manager", append(verbosity(), kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		// Each controller's client is limited to 20 requests/s (burst 30) by
		// default: a rollout costs its ReplicaSet controller about 15
		// requests (pods, status, events), so a few rollouts in a row or a
		// sync of many applications wait 0.1-0.3 s per request on the
		// client's own throttle. Lifted as kwokctl --disable-qps-limits does.
		"--kube-api-qps="+unlimitedQPS,
		"--kube-api-burst="+unlimitedBurst,
		"--service-account-private-key-file="+p(saSigningKey),
		"--root-ca-file="+p(caCertFile),
		"--cluster-signing-cert-file="+p(caCertFile),
		"--cluster-signing-key-file="+p(caKeyFile),
	)...); err != nil {
		return err
	}
	if err := c.run("kube-scheduler", append(verbosity(), kubeconfig, "--leader-elect=false", "--secure-port=0",
		"--kube-api-qps="+unlimitedQPS, "--kube-api-burst="+unlimitedBurst)...); err != nil {
		return err
	}
	return c.run("kwok", kubeconfig,
		"--config="+c.path("kwok.yaml"),
		"--manage-all-nodes=true",
		"--node-lease-duration-seconds=40",
		"--cidr=10.244.0.0/16",
	)
}

// verbosity returns klog's -v flag for kube-controller-manager and
// kube-scheduler when JIBE_K8S_V is set (e.g. JIBE_K8S_V=4 logs every sync
// of every controller; with JIBE_K8S_KEEP=1 the logs stay after the tests).
func verbosity() []string {
	if v := os.Getenv("JIBE_K8S_V"); v != "" {
		return []string{"--v=" + v}
	}
	return nil
}

// run starts one component and records it for Stop.
func (c *Cluster) run(name string, args ...string) error {
	p, err := startProcess(c.dir, name, c.bins[name], args...)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.procs = append(c.procs, p)
	return nil
}

func (c *Cluster) waitAPIServer(ctx context.Context) error {
	return c.waitFor(ctx, "kube-apiserver /readyz", func(ctx context.Context) error {
		_, err := c.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	})
}

// createNodes creates the kwok nodes; kwok makes them Ready.
func (c *Cluster) createNodes(ctx context.Context) error {
	for i := range c.opts.Nodes {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{"type": "kwok", corev1.LabelHostname: name},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		}}
		if _, err := c.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	return nil
}

// waitNodes waits until every node is Ready and the node lifecycle
// controller has lifted its not-ready taint, so pods can be scheduled.
func (c *Cluster) waitNodes(ctx context.Context) error {
	return c.waitFor(ctx, "kwok nodes to be Ready and untainted", func(ctx context.Context) error {
		nodes, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, n := range nodes.Items {
			if !nodeReady(&n) || len(n.Spec.Taints) > 0 {
				return fmt.Errorf("node %s: ready=%t taints=%v", n.Name, nodeReady(&n), n.Spec.Taints)
			}
		}
		return nil
	})
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitDefaultServiceAccount waits for kube-controller-manager to create the
// default ServiceAccount; until then the API server rejects new pods.
func (c *Cluster) waitDefaultServiceAccount(ctx context.Context) error {
	return c.waitFor(ctx, "the default ServiceAccount", func(ctx context.Context) error {
		_, err := c.client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// waitFor polls check until it returns nil. It fails early when a component
// exits, and on timeout reports check's last error.
func (c *Cluster) waitFor(ctx context.Context, what string, check func(context.Context) error) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := c.exited(); err != nil {
			return false, err
		}
		last = check(ctx)
		return last == nil, nil
	})
	if err == nil {
		return nil
	}
	if last != nil && wait.Interrupted(err) {
		err = fmt.Errorf("%w (last error: %w)", err, last)
	}
	return fmt.Errorf("waiting for %s: %w", what, err)
}

// exited returns an error naming the first component that has exited.
func (c *Cluster) exited() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if err := p.exited(); err != nil {
			return err
		}
	}
	return nil
}

// Stop kills every component and removes the cluster's directory. It is safe
// to call more than once and from several goroutines; only the first call
// does anything. Set JIBE_K8S_KEEP=1 to keep the directory for debugging.
func (c *Cluster) Stop() {
	c.stop.Do(func() {
		c.mu.Lock()
		procs := c.procs
		c.mu.Unlock()
		var wg sync.WaitGroup
		for _, p := range procs {
			wg.Go(p.kill)
		}
		wg.Wait()
		if os.Getenv("JIBE_K8S_KEEP") == "" {
			_ = os.RemoveAll(c.dir)
		}
	})
}

// PIDs returns the ids of the components' processes, each of which leads its
// own process group.
func (c *Cluster) PIDs() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	pids := make([]int, 0, len(c.procs))
	for _, p := range c.procs {
		pids = append(pids, p.pid())
	}
	return pids
}

// Dir returns the directory holding the cluster's state, PKI and logs.
func (c *Cluster) Dir() string { return c.dir }

// StartDuration returns how long Start took.
func (c *Cluster) StartDuration() time.Duration { return c.started }

// RESTConfig returns a new copy of the admin (system:masters) client config.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }

// Clientset returns a clientset authenticated as the admin user.
func (c *Cluster) Clientset() kubernetes.Interface { return c.client }

// Kubeconfig returns the path of the admin kubeconfig, for kubectl and for
// code under test that reads a kubeconfig file.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// logTails returns the end of every component's log, for error messages.
func (c *Cluster) logTails(lines int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "----- %s (last %d lines of %s) -----\n%s\n", p.name, lines, p.logPath, p.logTail(lines))
	}
	return b.String()
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. All listeners stay
// open until all ports are chosen, so the n ports differ.
func freePorts(n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	out := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
