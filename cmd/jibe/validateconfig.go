package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/spec"
	"github.com/jibe-dev/jibe/spec/kubecheck"
)

// placement is what `jibe validate --config` checks applications against:
// an agent configuration and, optionally, one of its sources.
type placement struct {
	cfg    *config.Config
	source string
}

// loadPlacement loads the agent configuration at path; nil when path is
// empty (then --source makes no sense).
func loadPlacement(path, source string) (*placement, error) {
	if path == "" {
		if source != "" {
			return nil, errors.New("--source needs --config: the source is looked up in the agent configuration")
		}
		return nil, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("the agent configuration is invalid:\n%w", err)
	}
	return &placement{cfg: cfg, source: source}, nil
}

// manifestCheck returns the check of Kubernetes manifests: offline
// without a configuration; with cluster set, against what that cluster of
// the configuration serves, read once through the connection the agent
// would use; otherwise each environment's against the cluster it names
// (see clusterChecks); offline, never a cluster. The error function
// reports, after the checks, a cluster that could not be reached.
func (p *placement) manifestCheck(ctx context.Context, cluster string, offline bool) (spec.ManifestCheck, func() error, error) {
	noErr := func() error { return nil }
	if offline && cluster != "" {
		return nil, nil, errors.New("--offline and --cluster contradict each other: give one")
	}
	if cluster == "" {
		if p == nil || offline {
			return kubecheck.Check, noErr, nil
		}
		cc := &clusterChecks{ctx: ctx, cfg: p.cfg, found: map[string]*kubecheck.Cluster{}, failed: map[string]bool{}}
		return cc.check, func() error { return cc.err }, nil
	}
	if p == nil {
		return nil, nil, errors.New("--cluster needs --config: the cluster's connection is read from the agent configuration")
	}
	c := p.cfg.Cluster(cluster)
	if c == nil {
		return nil, nil, unknownCluster(p.cfg, cluster)
	}
	cl, err := discoverCluster(ctx, p.cfg, *c)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach the cluster %s: %w; check that it is up and that its credentials are valid, or validate without --cluster", cluster, err)
	}
	return cl.Check, noErr, nil
}

// discoverCluster reads what cluster c of cfg serves, through the
// connection the agent would use.
func discoverCluster(ctx context.Context, cfg *config.Config, c config.Cluster) (*kubecheck.Cluster, error) {
	rc, err := kubernetes.RESTConfig(ctx, c, eksClients(cfg))
	if err != nil {
		return nil, fmt.Errorf("%w; fix its entry under kubernetes.clusters", err)
	}
	return kubecheck.Discover(ctx, c.Name, rc)
}

// unknownCluster is the error of a --cluster the configuration lacks.
func unknownCluster(cfg *config.Config, name string) error {
	var names []string
	for _, c := range cfg.Kubernetes.Clusters {
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return fmt.Errorf("the agent configuration has no cluster %q: it configures no clusters under kubernetes.clusters", name)
	}
	return fmt.Errorf("the agent configuration has no cluster %q under kubernetes.clusters (it has %s)", name, strings.Join(names, ", "))
}

// clusterChecks checks each environment's Kubernetes objects against the
// cluster of the configuration that the environment names, discovering
// each cluster once for the whole run (read-only). An environment naming
// no configured cluster is checked offline (the placement check reports
// the cluster). The first cluster that cannot be reached is kept in err,
// and its environments are checked offline meanwhile.
type clusterChecks struct {
	ctx    context.Context
	cfg    *config.Config
	found  map[string]*kubecheck.Cluster
	failed map[string]bool
	err    error
}

// check is a spec.ManifestCheck.
func (cc *clusterChecks) check(docs []spec.ManifestDoc) (problems, warnings strictyaml.ErrorList) {
	if cl := cc.cluster(docs[0].Environment, docs[0].Cluster); cl != nil {
		return cl.Check(docs)
	}
	return kubecheck.Check(docs)
}

// cluster returns what the cluster named name serves, discovering it on
// first use; nil when it is not configured or cannot be reached.
func (cc *clusterChecks) cluster(env, name string) *kubecheck.Cluster {
	if cl, ok := cc.found[name]; ok || cc.failed[name] {
		return cl
	}
	c := cc.cfg.Cluster(name)
	if c == nil {
		cc.failed[name] = true
		return nil
	}
	cl, err := discoverCluster(cc.ctx, cc.cfg, *c)
	if err != nil {
		cc.failed[name] = true
		if cc.err == nil {
			cc.err = fmt.Errorf("cannot reach the cluster %s (environment %s): %w; check that it is up and that its credentials are valid, "+
				"or validate with --cluster naming a cluster to check every environment against, or with --offline", name, env, err)
		}
		return nil
	}
	cc.found[name] = cl
	return cl
}

// check adds to r, a valid application's result, what keeps it from
// deploying under the configuration.
func (p *placement) check(r result) result {
	if p == nil || r.Kind != kindApplication || len(r.Problems) > 0 {
		return r
	}
	app, err := spec.Load(r.Path, spec.WithPlatforms(builtinPlatforms()...), spec.WithLimits(p.cfg.Limits.Spec()))
	if err != nil {
		r.Problems = append(r.Problems, strictyaml.AsList(err)...)
		return r
	}
	file := filepath.Join(r.Path, spec.FileName)
	for _, err := range agent.CheckPlacement(p.cfg, p.source, app) {
		r.Problems = append(r.Problems, &strictyaml.Error{File: file, Message: err.Error()})
	}
	return r
}
