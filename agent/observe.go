package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// observedHealth is a target's health as its platform last reported it
// to the engine, and when.
type observedHealth struct {
	reconcile.Health
	at time.Time
}

// healthKey is the key of a target in Agent.health.
func healthKey(app reconcile.AppID, env, target string) string {
	return app.String() + "/" + env + "/" + target
}

// observing wraps each platform so that the health the engine asks for
// while a rollout waits is also kept for the views: the API shows what
// platforms already observe and never asks them more.
func (a *Agent) observing(platforms map[spec.Platform]reconcile.Platform) map[spec.Platform]reconcile.Platform {
	out := make(map[spec.Platform]reconcile.Platform, len(platforms))
	for k, p := range platforms {
		out[k] = &observedPlatform{Platform: p, note: a.noteHealth}
	}
	return out
}

// noteHealth records h, observed for d.
func (a *Agent) noteHealth(d *reconcile.Deployment, h reconcile.Health) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.health[healthKey(d.AppID(), d.Env, d.Target.Name)] = observedHealth{Health: h, at: a.opts.Clock.Now()}
	if st := a.byID[d.AppID()]; st != nil {
		st.touch()
	}
}

// observedPlatform is a Platform whose Health results are noted. It is
// every optional interface the engine asks for (reconcile.BatchDiffer,
// Remover, VersionNamer, TrafficReturner, Prechecker), each answering as
// the engine does for a platform without it.
type observedPlatform struct {
	reconcile.Platform
	note func(*reconcile.Deployment, reconcile.Health)
}

var _ interface {
	reconcile.Platform
	reconcile.BatchDiffer
	reconcile.Remover
	reconcile.VersionNamer
	reconcile.TrafficReturner
	reconcile.Prechecker
} = (*observedPlatform)(nil)

// Health asks the platform and notes the answer.
func (p *observedPlatform) Health(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	h, err := p.Platform.Health(ctx, d)
	if err == nil {
		p.note(d, h)
	}
	return h, err
}

// DiffAll diffs in as few calls as the platform allows.
func (p *observedPlatform) DiffAll(ctx context.Context, ds []*reconcile.Deployment) ([][]reconcile.Change, error) {
	return reconcile.DiffAll(ctx, p.Platform, ds)
}

// Remove removes d's new version; a platform that is not a Remover
// cannot, which stalls.
func (p *observedPlatform) Remove(ctx context.Context, d *reconcile.Deployment) error {
	rm, ok := p.Platform.(reconcile.Remover)
	if !ok {
		return reconcile.Stalled(fmt.Errorf("the %s platform cannot remove a new version", d.Target.Platform()))
	}
	return rm.Remove(ctx, d)
}

// Versions names d's versions; a platform that is not a VersionNamer
// names none.
func (p *observedPlatform) Versions(ctx context.Context, d *reconcile.Deployment) (reconcile.RolloutVersions, error) {
	if vn, ok := p.Platform.(reconcile.VersionNamer); ok {
		return vn.Versions(ctx, d)
	}
	return reconcile.RolloutVersions{}, nil
}

// ReturnsTraffic reports whether the platform can return d's traffic;
// one that is not a TrafficReturner cannot.
func (p *observedPlatform) ReturnsTraffic(d *reconcile.Deployment) bool {
	tr, ok := p.Platform.(reconcile.TrafficReturner)
	return ok && tr.ReturnsTraffic(d)
}

// ReturnTraffic returns d's traffic to the version that ran before.
func (p *observedPlatform) ReturnTraffic(ctx context.Context, d *reconcile.Deployment) error {
	tr, ok := p.Platform.(reconcile.TrafficReturner)
	if !ok {
		return reconcile.Stalled(fmt.Errorf("the %s platform cannot return traffic without the previous revision", d.Target.Platform()))
	}
	return tr.ReturnTraffic(ctx, d)
}

// Precheck prechecks d; a platform that is not a Prechecker finds no
// problems.
func (p *observedPlatform) Precheck(ctx context.Context, d *reconcile.Deployment) ([]reconcile.Problem, error) {
	if pc, ok := p.Platform.(reconcile.Prechecker); ok {
		return pc.Precheck(ctx, d)
	}
	return nil, nil
}
