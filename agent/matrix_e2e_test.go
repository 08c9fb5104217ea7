package agent

import (
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// matrixCanary is the production strategy of matrixE2E's search: a
// canary of 50% that pauses for 30 days: the tests step their fake
// clock while other rollouts finish, and on a loaded machine an hour of
// steps ran out before cart had rolled back.
const matrixCanary = "{canary: {steps: [{setWeight: 50}, {pause: {duration: 720h}}]}}"

// matrixE2E is the real agent on the test cluster (see e2e) with three
// applications, each with staging and production in namespaces of its
// own, brought by real rollouts into the states a matrix shows: checkout
// in sync everywhere; cart's push of brokenImage failed in staging and
// was rolled back, so production still runs the last good version and
// waits behind staging; search's new version paused at its canary step
// in production.
type matrixE2E struct {
	*e2e
	namespaces map[string][2]string // application: staging, production
}

// newMatrixE2E rolls matrixE2E's applications out as its doc says: a
// first commit rolls every one out; a second pushes cart's broken image
// and search's canary, and the agent's resync (its drift interval) rolls
// the commit out to checkout too, whose folder it leaves unchanged.
func newMatrixE2E(t *testing.T) *matrixE2E {
	t.Helper()
	m := &matrixE2E{e2e: newE2E(t), namespaces: map[string][2]string{}}
	files := map[string]string{}
	m.appFiles(files, "checkout", "registry.example.com/checkout/web:1.4.0", rolling)
	m.appFiles(files, "cart", "registry.example.com/cart/web:2.0.0", rolling)
	m.appFiles(files, "search", "registry.example.com/search/web:3.0.0", rolling)
	v1 := m.push(files)
	m.settle("every application in production", func() bool {
		return m.ended("checkout", "production", v1) && m.ended("cart", "production", v1) && m.ended("search", "production", v1)
	})
	files = m.appFiles(map[string]string{}, "cart", brokenImage, rolling)
	v2 := m.push(m.appFiles(files, "search", "registry.example.com/search/web:3.1.0", matrixCanary))
	m.agent.resync()
	m.settle("cart failed in staging, search paused in production, checkout in sync", func() bool {
		r, err := m.journal.Current(reconcile.AppID{Source: "shop", Name: "search"}, "production")
		paused := err == nil && r.Revision == v2 && !r.State.Final() && r.Plan.Steps[r.Next].Kind == reconcile.StepPause
		return paused && m.rolledBack("cart", "staging", v2) && m.ended("checkout", "production", v2)
	})
	return m
}

// appFiles adds app at image, with production's strategy, to files and
// returns them.
func (m *matrixE2E) appFiles(files map[string]string, app, image, strategy string) map[string]string {
	ns, ok := m.namespaces[app]
	if !ok {
		ns = [2]string{m.cluster.NewNamespace(m.t), m.cluster.NewNamespace(m.t)}
		m.namespaces[app] = ns
	}
	return kubeAppFiles(files, app, image, ns[0], ns[1], strategy)
}

// ended reports whether app's rollout of revision in env has ended.
func (m *matrixE2E) ended(app, env, revision string) bool {
	r, err := m.journal.Current(reconcile.AppID{Source: "shop", Name: app}, env)
	return err == nil && r.Revision == revision && r.State.Final()
}

// rolledBack reports whether app's rollout of revision in env was rolled
// back, the rollback done: the journal's latest rollout there is then the
// rollback's, of the previous revision, so the view says it.
func (m *matrixE2E) rolledBack(app, env, revision string) bool {
	v, ok := m.agent.Application(reconcile.AppID{Source: "shop", Name: app})
	if !ok {
		return false
	}
	for _, e := range v.Environments {
		if e.Name == env {
			return e.State == reconcile.RolloutRolledBack.String() && e.Wanted != nil && e.Wanted.Revision == revision
		}
	}
	return false
}
