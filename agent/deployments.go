package agent

import (
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// deployments returns what env deploys at revision: one Deployment per
// target of source's application, placed by the environment and the agent
// configuration. Their mode is the environment's strategy, which diffs
// use; the executor gives the deployments it runs the mode of their plan.
func deployments(cfg *config.Config, source string, app *spec.App, r *spec.Rendered, revision string) []*reconcile.Deployment {
	env := r.Environment
	var out []*reconcile.Deployment
	for _, t := range r.Targets {
		d := &reconcile.Deployment{App: app.Metadata.Name, Source: source, Env: env.Name, Revision: revision, Environment: env, Target: t,
			Mode: env.Strategy.Kind()}
		if env.AWS != nil {
			d.Account, d.Region = env.AWS.Account, env.AWS.Region
			if a := cfg.Account(env.AWS.Account); a != nil && d.Region == "" {
				d.Region = a.Region
			}
		}
		if env.Kubernetes != nil {
			d.Cluster, d.Namespace = env.Kubernetes.Cluster, env.Kubernetes.Namespace
			if d.Namespace == "" && t.Kubernetes != nil {
				d.Namespace = t.Kubernetes.Namespace
			}
			if d.Namespace == "" {
				d.Namespace = "default"
			}
		}
		out = append(out, d)
	}
	return out
}

// checkTenancy refuses deployments outside what src may deploy to: AWS
// accounts, clusters, and every namespace a Kubernetes target's manifests
// name. The error is stalled: nothing is applied until the spec or the
// configuration changes. It gives each Kubernetes deployment src's
// tenancy in its cluster, which the platform checks every object against
// once discovery tells it the object's scope (cluster-scoped objects need
// allow.clusterScoped). The environment's HTTP checks must request hosts
// of allow.checkHosts; each deployment gets src's check hosts, which the
// checker enforces again on every request.
func checkTenancy(src *config.Source, deps []*reconcile.Deployment) error {
	hosts := src.CheckHostPolicy()
	for _, d := range deps {
		if err := checkDeployment(src, d); err != nil {
			return reconcile.Stalled(fmt.Errorf("environment %s, target %s: %w", d.Env, d.Target.Name, err))
		}
		if !d.Target.Platform().OnAWS() {
			d.Tenancy = src.InCluster(d.Cluster)
		}
		d.CheckHosts = hosts
	}
	if len(deps) > 0 {
		if err := checkHTTPHosts(hosts, deps[0].Environment, deps[0].Revision); err != nil {
			return reconcile.Stalled(fmt.Errorf("environment %s, %w", deps[0].Env, err))
		}
	}
	return nil
}

var (
	_ reconcile.Tenancy    = config.ClusterTenancy{}
	_ reconcile.CheckHosts = (*config.CheckHostPolicy)(nil)
)

func checkDeployment(src *config.Source, d *reconcile.Deployment) error {
	if d.Target.Platform().OnAWS() {
		return src.CheckAccount(d.Account)
	}
	for _, ns := range namespaces(d) {
		if err := src.CheckCluster(d.Cluster, ns); err != nil {
			return err
		}
	}
	return nil
}

// namespaces lists the namespaces a Kubernetes deployment writes into,
// sorted: its default namespace and those its manifests name. Which
// objects are cluster-scoped only the cluster knows: the platform decides
// and checks them against the deployment's Tenancy.
func namespaces(d *reconcile.Deployment) []string {
	set := map[string]bool{d.Namespace: true}
	for _, m := range d.Target.Manifests {
		md, _ := m.Object["metadata"].(map[string]any)
		if ns, _ := md["namespace"].(string); ns != "" {
			set[ns] = true
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// reportRefused reports the refusal of env when err holds a platform's
// refusal of an object (a cluster-scoped kind the source may not write, a
// kind of unknown scope): the message names the manifest's file:line and
// the object first, then why and what to allow.
func (a *Agent) reportRefused(st *appState, commit, env string, err error) {
	var re *reconcile.RefusedError
	if errors.As(err, &re) {
		a.refused(st, reconcile.EventObjectRefused, commit, env, stalledMessage(err))
	}
}

// stalledMessage says why a stalled err stalls: a refusal of an object
// names it first, without the callers' context.
func stalledMessage(err error) string {
	var re *reconcile.RefusedError
	if errors.As(err, &re) {
		return "refused: " + re.Error()
	}
	return unwrapStalled(err).Error()
}

// appName returns the name of the application in folder, for statuses of
// a spec too broken to name itself.
func appName(folder string) string {
	if folder == "." || folder == "" {
		return "root"
	}
	return path.Base(folder)
}

// specOptions are how the agent loads specs: within the configured limits,
// against the platforms it declares, with its manifest check.
func (a *Agent) specOptions() []spec.Option {
	return a.loadOptions(a.config().Limits.Spec())
}

// loadOptions are the spec options of a load under limits.
func (a *Agent) loadOptions(limits spec.Limits) []spec.Option {
	opts := []spec.Option{spec.WithLimits(limits), spec.WithPlatforms(a.opts.Capabilities...)}
	if a.opts.ManifestCheck != nil {
		opts = append(opts, spec.WithManifestCheck(a.opts.ManifestCheck))
	}
	return opts
}
