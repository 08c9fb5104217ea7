package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
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
