package reconcile

import (
	"context"
	"net/netip"
	"net/url"

	"github.com/jibe-dev/jibe/spec"
)

// Deployment is one target of one environment being deployed at one
// revision: everything a platform needs to diff, apply and shift it.
type Deployment struct {
	// App, Env and Revision say what is deployed where.
	App      string
	Env      string
	Revision string
	// Source is the configured source the application comes from: with
	// App, its identity (see AppID). Providers name resources after App
	// and record Source where they keep an owner (the Kubernetes
	// inventory).
	Source string
	// Environment is the environment, rendered (strategy, checks...).
	Environment *spec.Environment
	// Mode is how the deployment rolls out, which platforms follow rather
	// than derive it from Environment: the executor sets it to the mode of
	// the rollout's plan (EnvPlan.Mode: rolling for the first deploy of a
	// canary or blue/green environment). Diff, which runs before a plan
	// exists, gets the environment's strategy (the agent sets it so): a
	// first deploy only creates, so its diff does not depend on the mode,
	// and every other rollout runs in the strategy.
	Mode spec.StrategyKind
	// Target is the target with its files rendered for the environment.
	Target *spec.RenderedTarget
	// Cluster and Namespace place Kubernetes targets: the cluster's name
	// from the agent configuration and the default namespace.
	Cluster   string
	Namespace string
	// Tenancy is what the deployment's source may write in Cluster; the
	// Kubernetes platform checks every object against it once discovery
	// tells it the object's scope, when planning and again when writing.
	// nil allows everything: only callers that check no source (jibe plan
	// without --source, tests) leave it unset.
	Tenancy Tenancy
	// CheckHosts is where the deployment's source lets the environment's
	// HTTP checks send requests. nil allows every host: only callers that
	// check no source (tests) leave it unset.
	CheckHosts CheckHosts
	// Account and Region place AWS targets: the account's name from the
	// agent configuration and the region.
	Account string
	Region  string
	// Previous is the target as rendered at the last revision that
	// succeeded in this environment, which a rollback restores; nil for a
	// first deploy.
	Previous *spec.RenderedTarget
	// PreviousRevision is that revision's commit.
	PreviousRevision string
	// Force takes over fields that others changed since Jibe applied them
	// (drift corrections: Git is the source of truth). Without it, such
	// conflicts are reported.
	Force bool
}

// Tenancy is what a source may write in one Kubernetes cluster
// (config.Source.InCluster). Errors say what was refused and how to allow
// it.
type Tenancy interface {
	// AllowNamespace returns an error unless namespaced objects may be
	// written in namespace.
	AllowNamespace(namespace string) error
	// AllowClusterScoped returns an error unless the cluster-scoped object
	// name of kind (group "" for the core group) may be written.
	AllowClusterScoped(group, kind, name string) error
}

// CheckHosts is where a source's HTTP checks may send requests
// (config.CheckHostPolicy). Errors say what was refused and how to allow
// it.
type CheckHosts interface {
	// AllowURL returns an error unless a check may request u (its host
	// and port).
	AllowURL(u *url.URL) error
	// AllowAddr returns an error unless a check may connect to addr, an
	// address that the host name of an allowed URL resolved to.
	AllowAddr(addr netip.AddrPort) error
}

// AppID returns the identity of the deployment's application.
func (d *Deployment) AppID() AppID { return AppID{Source: d.Source, Name: d.App} }

// HealthState is how a deployment's new version is doing.
type HealthState int

// The health states.
const (
	// HealthProgressing: still rolling out; ask again later.
	HealthProgressing HealthState = iota + 1
	// HealthHealthy: every instance of the new version is ready.
	HealthHealthy
	// HealthFailed: the new version cannot become healthy (e.g. a
	// Deployment's ProgressDeadlineExceeded, an ECS circuit breaker).
	HealthFailed
)

// String names the state.
func (s HealthState) String() string {
	switch s {
	case HealthProgressing:
		return "progressing"
	case HealthHealthy:
		return "healthy"
	case HealthFailed:
		return "failed"
	}
	return "unknown"
}

// Health is a deployment's health with the platform's reason.
type Health struct {
	State HealthState
	// Reason is the platform's explanation, e.g. "2 of 3 pods ready" or
	// "ProgressDeadlineExceeded: ReplicaSet web-7d9 has timed out progressing".
	Reason string
	// Instances counts what the platform observed to decide State, for
	// the API and the dashboard; nil when the platform counts nothing
	// (such as a Kubernetes target of ConfigMaps only).
	Instances *Instances
}

// Instances counts a target's instances (pods, tasks, EC2 instances,
// Lambda provisioned concurrency) as its platform last observed them.
type Instances struct {
	// Desired is how many instances should run; Running how many do
	// (started, ready or not); Healthy and Unhealthy split the running
	// ones by readiness or target health.
	Desired   int `json:"desired"`
	Running   int `json:"running"`
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	// Versions split the counts by version while more than one runs (a
	// canary, blue/green, a rolling update in progress), the new version
	// first; empty when one version runs.
	Versions []VersionInstances `json:"versions,omitempty"`
}

// VersionInstances counts the instances of one version of a target.
type VersionInstances struct {
	// Version names the version as its platform does: a ReplicaSet, a task
	// definition ("web:12"), a Lambda version number, an Auto Scaling
	// group or launch template version.
	Version string `json:"version"`
	// Revision is the Git commit the version was applied from, when the
	// platform records it (Jibe's revision label or tag).
	Revision string `json:"revision,omitempty"`
	// New is set for the version being rolled out; unset for the stable
	// one.
	New bool `json:"new,omitempty"`
	// Desired, Running, Healthy and Unhealthy are as in Instances.
	Desired   int `json:"desired"`
	Running   int `json:"running"`
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	// Weight is the version's share of traffic in percent, when the
	// platform routes traffic by weight (a Lambda alias, ALB target
	// groups, a Gateway API route); nil when it does not say.
	Weight *float64 `json:"weight,omitempty"`
}

// Platform deploys targets of one kind (Kubernetes, ECS, Lambda, Auto
// Scaling). Every method must be idempotent: the executor re-runs a step
// whose outcome was not journaled before a crash. Errors carry their retry
// policy (Stalled, Waiting, or transient).
type Platform interface {
	// Diff compares the deployment's desired state with live state and
	// returns what differs, normalised so that defaults and fields the
	// platform sets do not show. It makes no write call.
	Diff(ctx context.Context, d *Deployment) ([]Change, error)
	// Apply writes the new version: in place for rolling, beside the stable
	// version for canary and blue/green (receiving no traffic yet). Applied
	// resources carry the revision, so live state tells which version runs.
	Apply(ctx context.Context, d *Deployment) error
	// Health reports how the new version is doing.
	Health(ctx context.Context, d *Deployment) (Health, error)
	// ShiftTraffic sends weight percent of traffic to the new version and
	// returns once the new weights are in effect.
	ShiftTraffic(ctx context.Context, d *Deployment, weight spec.Percent) error
	// Promote makes the new version the stable one and removes what the
	// revision no longer has (prune from the inventory of applied objects).
	Promote(ctx context.Context, d *Deployment) error
	// Cleanup removes the previous version kept for rollback.
	Cleanup(ctx context.Context, d *Deployment) error
	// Rollback returns all traffic to the stable version and removes the
	// new one; for rolling deployments it re-applies the previous revision.
	Rollback(ctx context.Context, d *Deployment) error
}

// VersionNamer is a Platform that names the versions a rollout moves
// traffic between, so that checks can select the new version's metrics
// without hard-coding them: ${rollout.newVersion} (also
// ${rollout.version}) and ${rollout.stableVersion}. Lambda names version
// numbers (the ExecutedVersion dimension of AWS/Lambda metrics).
type VersionNamer interface {
	// Versions returns the deployment's new and stable versions as the
	// platform names them; an empty name when there is none (yet).
	Versions(ctx context.Context, d *Deployment) (RolloutVersions, error)
}

// RolloutVersions are the versions of a rollout, as its platform names
// them.
type RolloutVersions struct {
	// New is the version being rolled out.
	New string
	// Stable is the version that served before it.
	Stable string
}

// Prechecker is a Platform that can check, before anything is applied,
// that what a deployment refers to exists: roles, target groups, subnets,
// images, secrets. Plan previews run it on pull requests, so that a
// reference that cannot work is found in review, not mid-deploy.
type Prechecker interface {
	// Precheck returns one problem per missing or unreadable reference,
	// each saying what to fix; none when everything the platform can see
	// exists. An error means the check itself could not run.
	Precheck(ctx context.Context, d *Deployment) ([]Problem, error)
}

// Problem is something a precheck found wrong with a deployment.
type Problem struct {
	// Target is the deployment's target.
	Target string `json:"target"`
	// Field is where the reference is, e.g. "taskDefinition.executionRoleArn".
	Field string `json:"field"`
	// Message says what is wrong and what to do.
	Message string `json:"message"`
}

// String returns "target: field: message".
func (p Problem) String() string { return p.Target + ": " + p.Field + ": " + p.Message }
