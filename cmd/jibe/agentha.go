package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	kubeclient "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/providers/kubernetes/coord"
	"github.com/jibe-dev/jibe/providers/kubernetes/kubejournal"
	"github.com/jibe-dev/jibe/reconcile"
)

// coordinator is what decides which agent acts on what when several
// share the journal (state.kubernetes): coord.Leader or coord.Shards.
type coordinator interface {
	Run(ctx context.Context) error
	Acquire(key string) (func(), bool)
	Changes() <-chan struct{}
	Owner(key string) string
	Members() []coord.Member
}

// highAvailability is the journal in a cluster and the coordinator of
// state.kubernetes, nil without it.
type highAvailability struct {
	cfg   config.KubernetesState
	coord coordinator
	// leader is set in leader mode: losing its lease ends the agent.
	leader *coord.Leader
}

// openJournal opens the journal: the bbolt file of the state directory,
// or, with state.kubernetes, the journal's objects in the cluster with
// the coordinator of the agents sharing them.
func openJournal(ctx context.Context, cfg *config.Config) (*reconcile.Journal, *highAvailability, error) {
	k := cfg.State.Kubernetes
	if k == nil {
		j, err := reconcile.OpenJournal(filepath.Join(cfg.StateDir, "journal.db"), reconcile.JournalOptions{})
		return j, nil, err
	}
	client, err := stateClient(ctx, cfg, k)
	if err != nil {
		return nil, nil, err
	}
	store, err := kubejournal.Open(ctx, client, k.Namespace, k.Name, kubejournal.Options{Identity: k.Identity})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the journal in namespace %s (state.kubernetes): %w", k.Namespace, err)
	}
	ha := &highAvailability{cfg: *k}
	cc := coord.Config{Namespace: k.Namespace, Name: k.Name, Identity: k.Identity, URL: k.AdvertiseURL,
		LeaseDuration: k.LeaseDuration.Duration, RenewDeadline: k.RenewDeadline.Duration, RetryPeriod: k.RetryPeriod.Duration,
		Logger: slog.Default()}
	if k.Sharding {
		ha.coord = coord.NewShards(client, cc)
	} else {
		ha.leader = coord.NewLeader(client, cc)
		ha.coord = ha.leader
	}
	return reconcile.NewJournal(store, reconcile.JournalOptions{}), ha, nil
}

// stateClient connects to the cluster of state.kubernetes: the named
// cluster of kubernetes.clusters, or the agent's own.
func stateClient(ctx context.Context, cfg *config.Config, k *config.KubernetesState) (kubeclient.Interface, error) {
	var (
		rc  *rest.Config
		err error
	)
	if k.Cluster == "" {
		rc, err = rest.InClusterConfig()
	} else {
		rc, err = kubernetes.RESTConfig(ctx, *cfg.Cluster(k.Cluster), eksClients(cfg))
	}
	if err != nil {
		return nil, fmt.Errorf("state.kubernetes: connecting to cluster %s: %w", clusterName(k.Cluster), err)
	}
	client, err := kubeclient.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("state.kubernetes: cluster %s: %w", clusterName(k.Cluster), err)
	}
	return client, nil
}

func clusterName(name string) string {
	if name == "" {
		return "(in-cluster: the agent's own; set state.kubernetes.cluster outside a pod)"
	}
	return name
}

// mode names the coordination, for the startup log.
func (ha *highAvailability) mode() string {
	if ha.cfg.Sharding {
		return "sharding"
	}
	return "leader election"
}

// options gives the agent its ownership, peers and readiness.
func (ha *highAvailability) options(o *agent.Options) {
	o.Ownership = ha.coord
	o.Peers = ha
	o.Synced = ha.synced
}

// Owner is agent.Peers' Owner, from the coordinator's view.
func (ha *highAvailability) Owner(key string) (identity, baseURL string, self bool) {
	identity = ha.coord.Owner(key)
	if identity == ha.cfg.Identity {
		return identity, ha.cfg.AdvertiseURL, true
	}
	for _, m := range ha.coord.Members() {
		if m.Identity == identity {
			return identity, m.URL, false
		}
	}
	return identity, "", false
}

// Others is agent.Peers' Others: the live members but this agent.
func (ha *highAvailability) Others() []string {
	var urls []string
	for _, m := range ha.coord.Members() {
		if m.Live && m.Identity != ha.cfg.Identity && m.URL != "" {
			urls = append(urls, m.URL)
		}
	}
	return urls
}

// synced says whether the coordinator sees this agent among the live
// members (its caches have synced and its Lease is written) and, in
// leader mode, knows the leader. The journal's cache has synced once it
// opened.
func (ha *highAvailability) synced() (bool, string) {
	live := false
	for _, m := range ha.coord.Members() {
		live = live || (m.Identity == ha.cfg.Identity && m.Live)
	}
	switch {
	case !live:
		return false, "this agent's member Lease " + config.MemberLeaseName(ha.cfg.Name, ha.cfg.Identity) + " is not written yet"
	case !ha.cfg.Sharding && ha.coord.Owner(agent.OwnerSource) == "":
		return false, "no leader is known yet (Lease " + config.LeaderLeaseName(ha.cfg.Name) + ")"
	}
	return true, ""
}

// collectors are the metrics of the coordination: jibe_ha_leader,
// jibe_ha_owned_applications and jibe_ha_members.
func (ha *highAvailability) collectors(a *agent.Agent) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jibe_ha_leader",
			Help: "1 when this agent does the work that belongs to no application (leader election: it is the leader; sharding: it owns the artifact watch and pull request lists), else 0."},
			func() float64 {
				if _, _, self := ha.Owner(agent.OwnerSource); self {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jibe_ha_owned_applications",
			Help: "Applications this agent owns now, of those its sources hold."},
			func() float64 { return float64(a.OwnedApplications()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jibe_ha_members",
			Help: "Live agents sharing the journal, this one included."},
			func() float64 {
				n := 0
				for _, m := range ha.coord.Members() {
					if m.Live {
						n++
					}
				}
				return float64(n)
			}),
	}
}

// run runs the coordinator until ctx is done. In leader mode, losing the
// lease calls lost, which stops the agent: the process exits non-zero
// and its pod comes back as a standby.
func (ha *highAvailability) run(ctx context.Context, lost func(error), log *slog.Logger) error {
	err := ha.coord.Run(ctx)
	if errors.Is(err, coord.ErrLost) {
		log.Error("this agent lost the leader lease; it stops acting and exits so that it restarts as a standby", "err", err)
		lost(err)
		return err
	}
	if err != nil {
		log.Error("the coordinator stopped", "err", err)
		lost(err)
	}
	return err
}
