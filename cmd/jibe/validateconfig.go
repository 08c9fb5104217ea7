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

// manifestCheck returns the check of Kubernetes manifests: offline, or
// with cluster set, against what that cluster of the configuration
// serves, read once through the connection the agent would use.
func (p *placement) manifestCheck(ctx context.Context, cluster string) (spec.ManifestCheck, error) {
	if cluster == "" {
		return kubecheck.Check, nil
	}
	if p == nil {
		return nil, errors.New("--cluster needs --config: the cluster's connection is read from the agent configuration")
	}
	var names []string
	for _, c := range p.cfg.Kubernetes.Clusters {
		if c.Name != cluster {
			names = append(names, c.Name)
			continue
		}
		rc, err := kubernetes.RESTConfig(ctx, c, eksClients(p.cfg))
		if err != nil {
			return nil, fmt.Errorf("%w; fix its entry under kubernetes.clusters, or validate without --cluster", err)
		}
		cl, err := kubecheck.Discover(ctx, cluster, rc)
		if err != nil {
			return nil, fmt.Errorf("cannot reach the cluster %s: %w; check that it is up and that its credentials are valid, or validate without --cluster", cluster, err)
		}
		return cl.Check, nil
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("the agent configuration has no cluster %q: it configures no clusters under kubernetes.clusters", cluster)
	}
	return nil, fmt.Errorf("the agent configuration has no cluster %q under kubernetes.clusters (it has %s)", cluster, strings.Join(names, ", "))
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
