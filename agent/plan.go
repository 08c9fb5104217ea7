package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Plan returns the plan of app at revision against live state, for the
// named environments (every environment when none is named), as the agent
// would build it: placed by cfg, checked against the source's tenancy when
// source is not empty, diffed by platforms. It makes no write call.
//
// An environment that cannot be planned (its platform unreachable, a
// target outside the source's tenancy) does not hide the others: the plan
// holds every environment that could be planned, and the error is a
// *PlanError naming each one that could not.
func Plan(ctx context.Context, cfg *config.Config, source string, app *spec.App, platforms map[spec.Platform]reconcile.Platform, revision string, envs ...string) (*reconcile.Plan, error) {
	p, _, failed, err := plan(ctx, cfg, source, app, platforms, revision, envs...)
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		return p, &PlanError{Envs: failed}
	}
	return p, nil
}

// PlanError lists the environments that could not be planned.
type PlanError struct {
	Envs []EnvError
}

// EnvError is why one environment could not be planned.
type EnvError struct {
	Env string
	Err error
}

func (e *PlanError) Error() string {
	lines := make([]string, len(e.Envs))
	for i, f := range e.Envs {
		lines[i] = fmt.Sprintf("%s: %v", f.Env, f.Err)
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each environment's error, so that errors.As and
// reconcile.PolicyOf see them.
func (e *PlanError) Unwrap() []error {
	errs := make([]error, len(e.Envs))
	for i, f := range e.Envs {
		errs[i] = f.Err
	}
	return errs
}

// plan is Plan, also returning each planned environment's deployments and,
// apart, the environments that could not be planned. Its error is for the
// request as a whole: an unknown source or environment.
func plan(ctx context.Context, cfg *config.Config, source string, app *spec.App, platforms map[spec.Platform]reconcile.Platform, revision string, envs ...string) (*reconcile.Plan, [][]*reconcile.Deployment, []EnvError, error) {
	src, err := planSource(cfg, source)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := knownEnvs(app, envs); err != nil {
		return nil, nil, nil, err
	}
	var (
		inputs []reconcile.EnvInput
		all    [][]*reconcile.Deployment
		failed []EnvError
	)
	for _, env := range app.Spec.Environments {
		if len(envs) > 0 && !slices.Contains(envs, env.Name) {
			continue
		}
		in, deps, err := planEnv(ctx, cfg, src, source, app, platforms, revision, env.Name)
		if err != nil {
			failed = append(failed, EnvError{Env: env.Name, Err: err})
			continue
		}
		inputs, all = append(inputs, in), append(all, deps)
	}
	return reconcile.Build(app.Metadata.Name, revision, inputs), all, failed, nil
}

// planEnv renders one environment, checks its tenancy when src is not nil,
// and diffs it against live state.
func planEnv(ctx context.Context, cfg *config.Config, src *config.Source, source string, app *spec.App, platforms map[spec.Platform]reconcile.Platform, revision, env string) (reconcile.EnvInput, []*reconcile.Deployment, error) {
	r, err := app.Render(env)
	if err != nil {
		return reconcile.EnvInput{}, nil, reconcile.Stalled(err)
	}
	deps := deployments(cfg, source, app, r, revision)
	if src != nil {
		if err := checkTenancy(src, deps); err != nil {
			return reconcile.EnvInput{}, nil, err
		}
	}
	changes, err := diff(ctx, platforms, deps)
	if err != nil {
		return reconcile.EnvInput{}, nil, err
	}
	return reconcile.EnvInput{Rendered: r, Changes: changes}, deps, nil
}

// planSource returns the configured source named source, nil when source
// is empty, and an error naming the configured ones when there is none of
// that name: a mistyped --source must not silently skip tenancy.
func planSource(cfg *config.Config, source string) (*config.Source, error) {
	if source == "" {
		return nil, nil
	}
	if src := cfg.Source(source); src != nil {
		return src, nil
	}
	names := make([]string, len(cfg.Sources))
	for i, s := range cfg.Sources {
		names[i] = s.Name
	}
	return nil, fmt.Errorf("the configuration has no source %q (it has %s): name one of them, or leave the source out to plan without tenancy checks", source, orNothing(names))
}

// knownEnvs fails when envs names an environment app does not have.
func knownEnvs(app *spec.App, envs []string) error {
	have := make([]string, len(app.Spec.Environments))
	for i, e := range app.Spec.Environments {
		have[i] = e.Name
	}
	var unknown []string
	for _, e := range envs {
		if !slices.Contains(have, e) {
			unknown = append(unknown, e)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("application %s has no environment %s (it has %s)", app.Metadata.Name, strings.Join(unknown, ", "), orNothing(have))
	}
	if len(have) == 0 {
		return errors.New("application " + app.Metadata.Name + " has no environments")
	}
	return nil
}

// orNothing lists names for a message, or says there are none.
func orNothing(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
