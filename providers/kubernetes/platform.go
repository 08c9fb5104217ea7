package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var _ interface {
	reconcile.Platform
	reconcile.Remover
	reconcile.TrafficReturner
	reconcile.Watcher
} = (*Platform)(nil)

// Platform deploys Kubernetes targets with server-side apply. It is safe
// for concurrent use. Its zero value is not usable: call New.
type Platform struct {
	// ForceConflicts makes applies take over fields that another field
	// manager owns. When false (the default), such conflicts stall the
	// deployment with an error naming the fields and their managers.
	ForceConflicts bool
	// Logger receives the platform's logs; nil discards them.
	Logger *slog.Logger

	configs map[string]*rest.Config
	base    context.Context
	stop    context.CancelFunc

	mu       sync.Mutex
	clusters map[string]*cluster

	// watch tells the applications whose health may have changed.
	watch watchers
}

// New returns a platform for the clusters in configs, by the names that
// Deployment.Cluster uses (build them with RESTConfig). Clients and caches
// are created on first use; Close stops the caches.
func New(configs map[string]*rest.Config) *Platform {
	base, stop := context.WithCancel(context.Background())
	return &Platform{configs: configs, base: base, stop: stop, clusters: map[string]*cluster{}}
}

// Close stops the watches of the live caches. The platform must not be
// used afterwards.
func (p *Platform) Close() { p.stop() }

// cluster returns the clients of d's cluster.
func (p *Platform) cluster(d *reconcile.Deployment) (*cluster, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cl, ok := p.clusters[d.Cluster]; ok {
		return cl, nil
	}
	cfg, ok := p.configs[d.Cluster]
	if !ok {
		return nil, reconcile.Stalled(fmt.Errorf("no cluster %q in the agent configuration", d.Cluster))
	}
	cl, err := newCluster(p.base, cfg)
	if err != nil {
		return nil, err
	}
	name := d.Cluster
	cl.cache.changed = func(namespace, app string) { p.watch.changed(name, namespace, app) }
	p.clusters[d.Cluster] = cl
	return cl, nil
}

func (p *Platform) log(d *reconcile.Deployment) *slog.Logger {
	l := p.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("source", d.Source, "app", d.App, "env", d.Env, "revision", d.Revision, "cluster", d.Cluster)
}

// session is one call's cluster, deployment and layout.
type session struct {
	cl  *cluster
	d   *reconcile.Deployment
	lay *layout
	log *slog.Logger
	// w is how the session writes: forced or not, admitted by the
	// deployment's tenancy.
	w writeOpts
}

// open prepares a call on d.
func (p *Platform) open(d *reconcile.Deployment) (*session, error) {
	if d.Target == nil || d.Target.Kubernetes == nil || d.Environment == nil {
		return nil, reconcile.Stalled(errors.New("not a kubernetes target of an environment"))
	}
	if d.Namespace == "" {
		return nil, reconcile.Stalled(fmt.Errorf("target %s has no namespace; set kubernetes.namespace on the target or the environment", d.Target.Name))
	}
	cl, err := p.cluster(d)
	if err != nil {
		return nil, err
	}
	lay, err := buildLayout(cl, d, d.Target, d.Revision)
	if err != nil {
		return nil, err
	}
	return &session{cl: cl, d: d, lay: lay, log: p.log(d).With("target", d.Target.Name),
		w: writeOpts{force: p.ForceConflicts || d.Force, allow: d.Tenancy}}, nil
}

// openWrite is open for a call that writes: when the deployment has
// kinds that are not built into Kubernetes (served by CRDs or aggregated
// APIs, whose scope can change), discovery is read again first, so that
// every object's scope, and so its admission by the deployment's tenancy,
// is the cluster's current answer rather than the one cached when the
// plan was made. The scope of a built-in kind never changes: reading
// discovery again for it would cost requests and tell nothing new.
func (p *Platform) openWrite(d *reconcile.Deployment) (*session, error) {
	cl, err := p.cluster(d)
	if err != nil {
		return nil, err
	}
	if !builtinKinds(d.Target) || !builtinKinds(d.Previous) {
		cl.resetDiscovery()
	}
	return p.open(d)
}

// builtinKinds reports whether every manifest of t (none when nil) is of
// a group built into Kubernetes.
func builtinKinds(t *spec.RenderedTarget) bool {
	if t == nil {
		return true
	}
	for _, m := range t.Manifests {
		apiVersion, _ := m.Object["apiVersion"].(string)
		group, _, found := strings.Cut(apiVersion, "/")
		if !found {
			group = ""
		}
		if !scheme.Scheme.IsGroupRegistered(group) {
			return false
		}
	}
	return true
}

// apply applies objs in order (see cluster.applyAll).
func (s *session) apply(ctx context.Context, objs []object) error {
	return s.cl.applyAll(ctx, objs, s.w)
}

// applyOne applies one object.
func (s *session) applyOne(ctx context.Context, o object) error {
	_, err := s.cl.applyOne(ctx, o, s.w)
	return err
}

// previous returns the layout of the previous revision, nil for a first
// deploy.
func (s *session) previous() (*layout, error) {
	if s.d.Previous == nil {
		return nil, nil
	}
	return buildLayout(s.cl, s.d, s.d.Previous, s.d.PreviousRevision)
}

// Diff returns the changes between the revision's objects (as they run
// once promoted) and live state: creates, updates with the differing
// fields, and deletes of inventory objects that left Git. It only reads,
// from watch-fed caches.
func (p *Platform) Diff(ctx context.Context, d *reconcile.Deployment) ([]reconcile.Change, error) {
	s, err := p.open(d)
	if err != nil {
		return nil, err
	}
	var changes []reconcile.Change
	for _, o := range s.lay.objs {
		c, err := s.diffOne(ctx, o)
		if err != nil {
			return nil, err
		}
		if c != nil {
			changes = append(changes, *c)
		}
	}
	inv, err := s.inventory(ctx, true)
	if err != nil {
		return nil, err
	}
	for _, r := range minus(inv.Objects, refsOf(s.lay.objs)) {
		changes = append(changes, reconcile.Change{Target: d.Target.Name, Resource: r.String(),
			Action: reconcile.ActionDelete, Reason: "removed from Git"})
	}
	return changes, nil
}

// diffOne diffs one object; a kind the cluster does not serve yet (its CRD
// is in the same revision) is a create.
func (s *session) diffOne(ctx context.Context, o object) (*reconcile.Change, error) {
	_, err := s.cl.mapping(o.ref())
	switch {
	case meta.IsNoMatchError(err):
		return diffObject(s.d.Target.Name, o, nil), nil
	case err != nil:
		return nil, classify("discover "+o.ref().String(), err)
	}
	live, err := s.cl.cached(ctx, o.ref())
	if err != nil {
		return nil, err
	}
	return diffObject(s.d.Target.Name, o, live), nil
}

// Apply writes the revision: in place for rolling; for canary, everything
// but the workload plus a canary copy of it at no traffic; for blue/green,
// everything with a new workload beside the old one, the Service still
// selecting the old one. The inventory records every object applied.
func (p *Platform) Apply(ctx context.Context, d *reconcile.Deployment) error {
	s, err := p.openWrite(d)
	if err != nil {
		return err
	}
	var objs []object
	switch d.Mode {
	case spec.StrategyRolling:
		objs = s.lay.objs
	case spec.StrategyCanary:
		objs, err = s.canaryApplySet(ctx)
	case spec.StrategyBlueGreen:
		objs, err = s.blueGreenApplySet(ctx)
	default:
		err = reconcile.Stalled(fmt.Errorf("unknown strategy %v", d.Mode))
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "applying", "step", "apply", "objects", len(objs), "strategy", d.Mode.String())
	return s.applyRecorded(ctx, objs)
}

// Health reports the health of the new version's objects: the canary copy
// while it exists, else every object of the revision.
func (p *Platform) Health(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	s, err := p.open(d)
	if err != nil {
		return reconcile.Health{}, err
	}
	objs := s.lay.objs
	if d.Mode == spec.StrategyCanary {
		if objs, err = s.canaryHealthSet(ctx); err != nil {
			return reconcile.Health{}, err
		}
	}
	p.watch.add(d, objs)
	h, err := s.health(ctx, objs)
	if err != nil || !s.judgesCanary(objs) {
		return h, err
	}
	return s.withStable(ctx, h)
}

// judgesCanary reports whether objs, a health set, is a live canary's:
// its last object is the canary copy of the workload.
func (s *session) judgesCanary(objs []object) bool {
	if s.d.Mode != spec.StrategyCanary || s.lay.workload < 0 || len(objs) == 0 {
		return false
	}
	return objs[len(objs)-1].u.GetName() == canaryName(s.lay.objs[s.lay.workload].u.GetName())
}

// health reads objs from the live cache, which has seen Jibe's own
// writes, and aggregates their health.
func (s *session) health(ctx context.Context, objs []object) (reconcile.Health, error) {
	hs := make([]reconcile.Health, 0, len(objs))
	for _, o := range objs {
		live, err := s.cl.cached(ctx, o.ref())
		if err != nil {
			return reconcile.Health{}, err
		}
		hs = append(hs, objectHealth(o.ref(), live, time.Now()))
	}
	return aggregate(hs), nil
}

// ShiftTraffic sends weight percent of traffic to the new version and
// returns once the weights are in effect: route weights or replica counts
// for canary, the Service's selector for blue/green (which switches only
// once the new workload is healthy). Rolling deployments have nothing to
// shift.
func (p *Platform) ShiftTraffic(ctx context.Context, d *reconcile.Deployment, weight spec.Percent) error {
	s, err := p.openWrite(d)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "shifting traffic", "step", "shift-traffic", "weight", weight)
	switch d.Mode {
	case spec.StrategyRolling:
		return nil
	case spec.StrategyCanary:
		return s.canaryShift(ctx, wholePercent(weight))
	case spec.StrategyBlueGreen:
		return s.blueGreenShift(ctx, wholePercent(weight))
	}
	return reconcile.Stalled(fmt.Errorf("unknown strategy %v", d.Mode))
}

// Promote makes the revision the stable one and prunes the objects the
// inventory holds that the revision no longer has. For canary it first
// rolls the stable workload to the new version and returns a Waiting error
// until it is healthy; for blue/green the previous workload is retained
// for Cleanup.
func (p *Platform) Promote(ctx context.Context, d *reconcile.Deployment) error {
	s, err := p.openWrite(d)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "promoting", "step", "promote")
	switch d.Mode {
	case spec.StrategyRolling:
		return s.prune(ctx, s.lay.objs, nil, d.Revision)
	case spec.StrategyCanary:
		return s.canaryPromote(ctx)
	case spec.StrategyBlueGreen:
		return s.blueGreenPromote(ctx)
	}
	return reconcile.Stalled(fmt.Errorf("unknown strategy %v", d.Mode))
}

// Cleanup deletes what a promotion retained for rollback: a blue/green
// deployment's previous workload. Other strategies retain nothing.
func (p *Platform) Cleanup(ctx context.Context, d *reconcile.Deployment) error {
	s, err := p.openWrite(d)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "cleaning up", "step", "cleanup")
	return s.deleteRetained(ctx)
}

// Rollback restores the previous revision whatever the strategy: its
// objects are re-applied (which returns routes to 100% stable, replicas to
// the stable workload and the Service's selector to the old pods) and
// every other object of the inventory is deleted, canary copies and new
// workloads included. Without a previous revision there is nothing to
// re-apply: nothing is changed and nothing that runs is deleted, and a
// newer revision applies over it (Remove deletes a failed first deploy;
// ReturnTraffic undoes a failed blue/green rollout).
func (p *Platform) Rollback(ctx context.Context, d *reconcile.Deployment) error {
	s, err := p.openWrite(d)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "rolling back", "step", "rollback", "to", d.PreviousRevision)
	prev, err := s.previous()
	if err != nil {
		return err
	}
	if prev == nil {
		// Nothing to re-apply; reading the inventory still refuses another
		// source's.
		if _, err := s.inventory(ctx, false); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "no previous revision to return to; nothing changed", "step", "rollback")
		return nil
	}
	if err := s.apply(ctx, prev.objs); err != nil {
		return err
	}
	return s.prune(ctx, prev.objs, nil, d.PreviousRevision)
}

// ReturnsTraffic reports whether ReturnTraffic can undo d without its
// previous revision: with blue/green, whose new workload runs beside the
// one that ran before. A canary without a previous revision is applied in
// place (see canaryApplySet): no other version runs to return traffic to.
func (p *Platform) ReturnsTraffic(d *reconcile.Deployment) bool {
	return d.Mode == spec.StrategyBlueGreen
}

// ReturnTraffic undoes a failed blue/green rollout without its previous
// revision: once the workload version that ran before is healthy, the
// Service selects its pods again, and the new workload is deleted. Nothing
// else is changed or deleted.
func (p *Platform) ReturnTraffic(ctx context.Context, d *reconcile.Deployment) error {
	if !p.ReturnsTraffic(d) {
		return reconcile.Stalled(fmt.Errorf("target %s: only blue/green can return traffic without a previous revision", d.Target.Name))
	}
	s, err := p.openWrite(d)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "returning traffic to the version that ran before", "step", "rollback")
	return s.blueGreenReturn(ctx)
}

// Remove deletes what the target's rollouts applied, as its inventory
// records it, and the inventory itself: a failed first deploy, which has
// no earlier version to return to. Objects Jibe did not apply are never
// touched.
func (p *Platform) Remove(ctx context.Context, d *reconcile.Deployment) error {
	s, err := p.open(d)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "removing the new version", "step", "rollback")
	return s.prune(ctx, nil, nil, "")
}

// wholePercent rounds a weight to a whole percent, the unit of route
// weights and replica shares.
func wholePercent(p spec.Percent) int64 { return int64(math.Round(float64(p))) }
