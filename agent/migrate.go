package agent

import (
	"regexp"
	"slices"
	"strings"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// AppLister lists the application folders a source held when the agent
// last stopped, known at start before any poll: sources.Git.
type AppLister interface {
	Applications(source string) ([]*sources.Revision, error)
}

// MigrateJournal assigns the rollouts journaled before application
// identity (keyed by name alone) to their source, so that their
// applications keep their current and last good revisions. Each rollout
// goes to:
//
//  1. the only configured source, when there is one;
//  2. else the only source that has an application of that name, as the
//     sources held them when the agent stopped (Options.Applications);
//  3. else, among the sources having one, the only one whose clone holds
//     the rollout's revision (Options.History);
//  4. else the only source whose allow covers where the journaled plan
//     deployed (Kubernetes namespaces, AWS);
//
// and otherwise stays legacy, with a warning saying what the operator can
// do. Call it at start, before Run. It is idempotent: records already
// assigned are left alone, and legacy ones are tried again at each start.
func (a *Agent) MigrateJournal() error {
	legacy, err := a.opts.Journal.Legacy()
	if err != nil || len(legacy) == 0 {
		return err
	}
	x := a.newAssigner()
	res, err := a.opts.Journal.Migrate(x.assign)
	if err != nil {
		return err
	}
	for id, n := range res.Assigned {
		a.log.Info("journaled rollouts assigned to their source", "source", id.Source, "app", id.Name, "rollouts", n, "rule", x.rules[id])
	}
	a.warnUnassigned(res.Left, x)
	return nil
}

// warnUnassigned logs, per application name, the rollouts left legacy.
func (a *Agent) warnUnassigned(left []*reconcile.Rollout, x *assigner) {
	count := map[string]int{}
	for _, r := range left {
		count[r.App]++
	}
	for name, n := range count {
		a.log.Warn("rollouts journaled before applications were identified by source and name could not be assigned to one source; "+
			"they stay under their old key and are not used, so until the application succeeds again in an environment a failure there cannot roll back to the journaled revision",
			"app", name, "rollouts", n, "candidates", x.candidates[name],
			"fix", "restart the agent once only one configured source has an application named "+name+
				", or once only one source's allow covers where it deployed: the rollouts are then assigned to it")
	}
}

// assigner decides the source of legacy rollouts from what the agent
// knows at start.
type assigner struct {
	sources []config.Source
	// holders are the sources that have an application of each name.
	holders map[string][]string
	history RevisionFinder
	// rules say why each application's rollouts went to their source;
	// candidates are the sources left for names that stay legacy.
	rules      map[reconcile.AppID]string
	candidates map[string][]string
}

func (a *Agent) newAssigner() *assigner {
	x := &assigner{sources: a.config().Sources, holders: map[string][]string{}, history: a.opts.History,
		rules: map[reconcile.AppID]string{}, candidates: map[string][]string{}}
	if len(x.sources) < 2 || a.opts.Applications == nil {
		return x
	}
	for _, src := range x.sources {
		revs, err := a.opts.Applications.Applications(src.Name)
		if err != nil {
			a.log.Warn("cannot list the applications the source held; journal records are assigned without them", "source", src.Name, "err", err)
		}
		for _, rev := range revs {
			if n := readSpecName(rev); n.name != "" && !slices.Contains(x.holders[n.name], src.Name) {
				x.holders[n.name] = append(x.holders[n.name], src.Name)
			}
		}
	}
	return x
}

// assign returns the source of legacy rollout r, or "" to leave it.
func (x *assigner) assign(r *reconcile.Rollout) string {
	source, rule, candidates := x.decide(r)
	if source == "" {
		x.candidates[r.App] = candidates
		return ""
	}
	x.rules[reconcile.AppID{Source: source, Name: r.App}] = rule
	return source
}

func (x *assigner) decide(r *reconcile.Rollout) (source, rule string, candidates []string) {
	if len(x.sources) == 1 {
		return x.sources[0].Name, "the only configured source", nil
	}
	holders := x.holders[r.App]
	if len(holders) == 1 {
		return holders[0], "the only source with an application of that name", nil
	}
	if s := x.byCommit(r, holders); s != "" {
		return s, "the only source with an application of that name whose clone holds the revision", nil
	}
	candidates = holders
	if len(candidates) == 0 {
		for _, s := range x.sources {
			candidates = append(candidates, s.Name)
		}
	}
	where := placementOf(r.Plan)
	var covering []string
	for _, name := range candidates {
		if src := x.source(name); src != nil && where.coveredBy(src) {
			covering = append(covering, name)
		}
	}
	if len(covering) == 1 {
		return covering[0], "the only source whose allow covers where the rollout deployed", nil
	}
	return "", "", covering
}

// byCommit returns the only one of sources whose clone holds the
// rollout's revision, or "".
func (x *assigner) byCommit(r *reconcile.Rollout, names []string) string {
	if x.history == nil || len(names) < 2 {
		return ""
	}
	var found []string
	for _, name := range names {
		if _, err := x.history.Revision(name, ".", r.Revision); err == nil {
			found = append(found, name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

func (x *assigner) source(name string) *config.Source {
	for i := range x.sources {
		if x.sources[i].Name == name {
			return &x.sources[i]
		}
	}
	return nil
}

// placement is where a journaled plan deployed, as far as its changes
// tell: a legacy rollout journals no account, cluster or namespace, but
// its changes name the resources, e.g. "apps/v1 Deployment shop/web" or
// "ECS service web".
type placement struct {
	aws, kubernetes bool
	namespaces      []string
}

// kubeResource matches a Kubernetes change's resource: group/version,
// kind, [namespace/]name.
var kubeResource = regexp.MustCompile(`^(?:[a-z0-9.-]+/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)? [A-Za-z0-9]+ (?:([a-z0-9-]+)/)?[^ /]+$`)

// awsResources are the prefixes of AWS changes' resources.
var awsResources = []string{"ECS ", "Application Auto Scaling ", "Lambda ", "Auto Scaling "}

func placementOf(p reconcile.EnvPlan) placement {
	var pl placement
	for _, c := range p.Changes {
		if slices.ContainsFunc(awsResources, func(prefix string) bool { return strings.HasPrefix(c.Resource, prefix) }) {
			pl.aws = true
			continue
		}
		if m := kubeResource.FindStringSubmatch(c.Resource); m != nil {
			pl.kubernetes = true
			if m[1] != "" && !slices.Contains(pl.namespaces, m[1]) {
				pl.namespaces = append(pl.namespaces, m[1])
			}
		}
	}
	return pl
}

// coveredBy reports whether src's allow covers the placement: an account
// for AWS changes, a cluster allowing every namespace for Kubernetes ones.
// A plan without changes tells nothing, and every source covers it.
func (pl placement) coveredBy(src *config.Source) bool {
	if pl.aws && len(src.Allow.Accounts) == 0 {
		return false
	}
	if !pl.kubernetes {
		return true
	}
	return slices.ContainsFunc(src.Allow.Clusters, func(cluster string) bool {
		for _, ns := range pl.namespaces {
			if src.CheckCluster(cluster, ns) != nil {
				return false
			}
		}
		return true
	})
}
