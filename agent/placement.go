package agent

import (
	"fmt"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/spec"
)

// CheckPlacement returns what keeps app's environments from deploying
// under cfg, found before anything is planned or applied: an AWS account
// or a Kubernetes cluster that cfg does not configure, and an approval
// rule that can never be evaluated (no GitHub configured, or a source that
// names no GitHub repository). When source is not empty, the source must
// exist and its tenancy (accounts, clusters, namespaces, check hosts) is
// checked too. `jibe validate --config` reports these offline; the agent
// refuses such a revision at once instead of failing when the rollout
// reaches the step.
func CheckPlacement(cfg *config.Config, source string, app *spec.App) []error {
	src, err := planSource(cfg, source)
	if err != nil {
		return []error{err}
	}
	var problems []error
	for _, env := range app.Spec.Environments {
		problems = append(problems, placeEnv(cfg, src, env, cfg.GitHub != nil)...)
		if src == nil {
			continue
		}
		r, err := app.Render(env.Name)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if err := checkTenancy(src, deployments(cfg, source, app, r, "")); err != nil {
			problems = append(problems, unwrapStalled(err))
		}
	}
	return problems
}

// placeEnv checks that cfg has what env names, and that its approval
// rules can be evaluated for src (any source when src is nil) with reviews
// read from GitHub when reviews says the agent can.
func placeEnv(cfg *config.Config, src *config.Source, env spec.Environment, reviews bool) []error {
	var problems []error
	if env.AWS != nil && env.AWS.Account != "" && cfg.Account(env.AWS.Account) == nil {
		problems = append(problems, fmt.Errorf("environment %s: AWS account %q is not configured: add it under aws.accounts in the agent configuration, or name one of %s", env.Name, env.AWS.Account, orNothing(accountNames(cfg))))
	}
	if env.Kubernetes != nil && env.Kubernetes.Cluster != "" && cfg.Cluster(env.Kubernetes.Cluster) == nil {
		problems = append(problems, fmt.Errorf("environment %s: cluster %q is not configured: add it under kubernetes.clusters in the agent configuration, or name one of %s", env.Name, env.Kubernetes.Cluster, orNothing(clusterNames(cfg))))
	}
	if !needsApproval(env) {
		return problems
	}
	switch {
	case !reviews:
		problems = append(problems, fmt.Errorf("environment %s needs approval from pull-request reviews, but the agent configuration has no github section to read them with: configure github (a token or an App), or remove the approval", env.Name))
	case src != nil:
		if _, repo := github.Repository(src); repo == "" {
			problems = append(problems, fmt.Errorf("environment %s needs approval, but source %s names no GitHub repository to read reviews from: set git.repository on the source", env.Name, src.Name))
		}
	}
	return problems
}

// needsApproval reports whether env's rollout waits for approving reviews.
func needsApproval(env spec.Environment) bool {
	if env.Approval != nil {
		return true
	}
	for _, s := range env.Strategy.Steps() {
		if s.Approval != nil {
			return true
		}
	}
	return false
}

func accountNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.AWS.Accounts))
	for i, a := range cfg.AWS.Accounts {
		names[i] = a.Name
	}
	return names
}

func clusterNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.Kubernetes.Clusters))
	for i, c := range cfg.Kubernetes.Clusters {
		names[i] = c.Name
	}
	return names
}
