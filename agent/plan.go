package agent

import (
	"context"
	"fmt"
	"slices"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Plan returns the plan of app at revision against live state, for the
// named environments (every environment when none is named), as the agent
// would build it: placed by cfg, checked against the source's tenancy when
// source is not empty, diffed by platforms. It makes no write call.
func Plan(ctx context.Context, cfg *config.Config, source string, app *spec.App, platforms map[spec.Platform]reconcile.Platform, revision string, envs ...string) (*reconcile.Plan, error) {
	p, _, err := plan(ctx, cfg, source, app, platforms, revision, envs...)
	return p, err
}

// plan is Plan, also returning each planned environment's deployments.
func plan(ctx context.Context, cfg *config.Config, source string, app *spec.App, platforms map[spec.Platform]reconcile.Platform, revision string, envs ...string) (*reconcile.Plan, [][]*reconcile.Deployment, error) {
	var inputs []reconcile.EnvInput
	var all [][]*reconcile.Deployment
	for _, env := range app.Spec.Environments {
		if len(envs) > 0 && !slices.Contains(envs, env.Name) {
			continue
		}
		r, err := app.Render(env.Name)
		if err != nil {
			return nil, nil, reconcile.Stalled(err)
		}
		deps := deployments(cfg, source, app, r, revision)
		if src := cfg.Source(source); src != nil {
			if err := checkTenancy(src, deps); err != nil {
				return nil, nil, err
			}
		}
		changes, err := diff(ctx, platforms, deps)
		if err != nil {
			return nil, nil, err
		}
		inputs = append(inputs, reconcile.EnvInput{Rendered: r, Changes: changes})
		all = append(all, deps)
	}
	if len(inputs) == 0 {
		return nil, nil, fmt.Errorf("application %s has no environment %v", app.Metadata.Name, envs)
	}
	return reconcile.Build(app.Metadata.Name, revision, inputs), all, nil
}
