package lambda

import (
	"context"
	"fmt"
	"maps"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var _ reconcile.TrafficReturner = (*Platform)(nil)

// rollout is the state of a deployment's rollout: its function, alias and
// the new version (nil until published).
type rollout struct {
	d     deployment
	l     *live
	vs    []types.FunctionConfiguration
	next  *types.FunctionConfiguration
	alias *types.AliasConfiguration
}

// readRollout reads d's rollout state.
func (p *Platform) readRollout(ctx context.Context, rd *reconcile.Deployment) (*rollout, error) {
	d, err := target(rd)
	if err != nil {
		return nil, err
	}
	l, err := p.read(ctx, d)
	if err != nil {
		return nil, err
	}
	r := &rollout{d: d, l: l}
	if l == nil {
		return r, nil
	}
	if r.vs, err = p.versions(ctx, d); err != nil {
		return nil, err
	}
	r.next, r.alias = newVersion(d, r.vs), l.alias
	return r, nil
}

// nextVersion is the new version's number, "" until it is published.
func (r *rollout) nextVersion() string {
	if r.next == nil {
		return ""
	}
	return aws.ToString(r.next.Version)
}

// primary is the version the alias sends its traffic to (but for a
// canary's weight), "" without an alias.
func (r *rollout) primary() string {
	if r.alias == nil {
		return ""
	}
	return aws.ToString(r.alias.FunctionVersion)
}

// Health reports the new version's health: its State and LastUpdateStatus
// (Failed is failed, with Lambda's reason), its provisioned concurrency
// when the target asks for some (progressing until READY, failed with
// Lambda's reason); for rolling deployments also that the alias points
// at it.
func (p *Platform) Health(ctx context.Context, rd *reconcile.Deployment) (reconcile.Health, error) {
	r, err := p.readRollout(ctx, rd)
	if err != nil {
		return reconcile.Health{}, err
	}
	h, err := p.health(ctx, rd, r)
	if err != nil {
		return reconcile.Health{}, err
	}
	h.Instances = r.instances()
	return h, nil
}

// health is Health's verdict on r.
func (p *Platform) health(ctx context.Context, rd *reconcile.Deployment, r *rollout) (reconcile.Health, error) {
	if r.next == nil {
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: "the new version is not published yet"}, nil
	}
	if h := versionHealth(r.next); h.State != reconcile.HealthHealthy {
		return h, nil
	}
	if h, err := p.checkProvisioned(ctx, r.d, r.nextVersion()); err != nil || h.State != reconcile.HealthHealthy {
		return h, err
	}
	if mode(rd) == spec.StrategyRolling && r.primary() != r.nextVersion() {
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf("alias %s still points at version %s", r.d.alias, r.primary())}, nil
	}
	return reconcile.Health{State: reconcile.HealthHealthy, Reason: fmt.Sprintf("version %s is active", r.nextVersion())}, nil
}

// versionHealth maps a version's State and LastUpdateStatus to health.
func versionHealth(v *types.FunctionConfiguration) reconcile.Health {
	n := aws.ToString(v.Version)
	switch {
	case v.State == types.StateFailed || v.LastUpdateStatus == types.LastUpdateStatusFailed:
		return reconcile.Health{State: reconcile.HealthFailed, Reason: fmt.Sprintf("version %s failed: %s%s", n, aws.ToString(v.StateReason), aws.ToString(v.LastUpdateStatusReason))}
	case v.State == types.StateActive && v.LastUpdateStatus != types.LastUpdateStatusInProgress:
		return reconcile.Health{State: reconcile.HealthHealthy}
	}
	return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf("version %s is %s", n, v.State)}
}

// ShiftTraffic sends weight percent of the alias's invocations to the new
// version (RoutingConfig.AdditionalVersionWeights), the rest staying on
// the alias's version; at 100 the alias points at the new version alone.
// It returns Waiting while the new version is not healthy, so a broken
// version never gets traffic. Rolling deployments have no traffic to
// shift.
func (p *Platform) ShiftTraffic(ctx context.Context, rd *reconcile.Deployment, weight spec.Percent) error {
	if _, err := target(rd); err != nil || mode(rd) == spec.StrategyRolling {
		return err
	}
	r, err := p.readRollout(ctx, rd)
	if err != nil {
		return err
	}
	if err := p.ready(ctx, r); err != nil {
		return err
	}
	next, stable := r.nextVersion(), r.primary()
	if weight >= 100 || stable == next {
		return p.route(ctx, r.d, r.alias, next, "", 0)
	}
	return p.route(ctx, r.d, r.alias, stable, next, float64(weight)/100)
}

// ready returns Waiting unless the new version is published and healthy
// (its provisioned concurrency ready) and the alias exists; Stalled when
// the version's provisioned concurrency failed.
func (p *Platform) ready(ctx context.Context, r *rollout) error {
	if r.next == nil || r.alias == nil {
		return reconcile.Waiting(p.requeue, "function %s: the new version or alias %s does not exist yet", r.d.name(), r.d.alias)
	}
	if h := versionHealth(r.next); h.State != reconcile.HealthHealthy {
		return reconcile.Waiting(p.requeue, "function %s: %s", r.d.name(), h.Reason)
	}
	h, err := p.checkProvisioned(ctx, r.d, r.nextVersion())
	switch {
	case err != nil:
		return err
	case h.State == reconcile.HealthFailed:
		return reconcile.Stalled(fmt.Errorf("function %s: %s", r.d.name(), h.Reason))
	case h.State != reconcile.HealthHealthy:
		return reconcile.Waiting(p.requeue, "function %s: %s", r.d.name(), h.Reason)
	}
	return nil
}

// Promote points the alias at the new version with no extra weights,
// removes the provisioned concurrency of versions no alias uses any more,
// then deletes published versions beyond the newest KeepVersions, never
// one an alias points to.
func (p *Platform) Promote(ctx context.Context, rd *reconcile.Deployment) error {
	r, err := p.readRollout(ctx, rd)
	if err != nil {
		return err
	}
	if err := p.ready(ctx, r); err != nil {
		return err
	}
	if err := p.route(ctx, r.d, r.alias, r.nextVersion(), "", 0); err != nil {
		return err
	}
	if err := p.releaseProvisioned(ctx, r.d); err != nil {
		return err
	}
	return p.pruneVersions(ctx, r)
}

// Cleanup removes the provisioned concurrency of versions no alias uses
// (Promote did, unless it was interrupted): Lambda keeps no old version
// running, and Promote deleted the versions beyond the ones kept.
func (p *Platform) Cleanup(ctx context.Context, rd *reconcile.Deployment) error {
	d, err := target(rd)
	if err != nil {
		return err
	}
	return p.releaseProvisioned(ctx, d)
}

// Rollback returns all of the alias's traffic to the version that served
// before, at once: for canary and blue/green the alias's version (its
// extra weight removed), or when the alias already points at the new
// version, the version published for the previous revision. Then the
// provisioned concurrency of versions no alias uses is removed.
func (p *Platform) Rollback(ctx context.Context, rd *reconcile.Deployment) error {
	r, err := p.readRollout(ctx, rd)
	if err != nil || r.alias == nil {
		return err
	}
	back := r.primary()
	if r.next != nil && back == r.nextVersion() {
		prev := p.previousVersion(r)
		if prev == nil {
			return reconcile.Stalled(errNoPrevious)
		}
		back = aws.ToString(prev.Version)
	}
	p.logger(rd, "rollback").Info("returning the alias to the previous version", "alias", r.d.alias, "version", back)
	if err := p.route(ctx, r.d, r.alias, back, "", 0); err != nil {
		return err
	}
	return p.releaseProvisioned(ctx, r.d)
}

// previousVersion returns the newest version published for the previous
// revision, or the newest version other than the new one that matches
// the previous revision's file; nil when there is none.
func (p *Platform) previousVersion(r *rollout) *types.FunctionConfiguration {
	rd := r.d.Deployment
	if rd.Previous != nil && rd.Previous.Function != nil {
		prev := r.d
		prev.fn = rd.Previous.Function
		if v := newVersion(prev, r.vs); v != nil && aws.ToString(v.Version) != r.nextVersion() {
			return v
		}
	}
	if rd.PreviousRevision == "" {
		return nil
	}
	return newest(r.vs, func(v *types.FunctionConfiguration) bool {
		rev, _ := describedAs(v)
		return rev == rd.PreviousRevision && aws.ToString(v.Version) != r.nextVersion()
	})
}

// ReturnsTraffic reports that ReturnTraffic can undo d without its
// previous revision: for canary and blue/green, where the alias keeps the
// old version until promotion.
func (p *Platform) ReturnsTraffic(rd *reconcile.Deployment) bool {
	_, err := target(rd)
	return err == nil && mode(rd) != spec.StrategyRolling
}

// ReturnTraffic is Rollback.
func (p *Platform) ReturnTraffic(ctx context.Context, rd *reconcile.Deployment) error {
	return p.Rollback(ctx, rd)
}

// route points the alias at primary, with weight (0 to 1) of the
// invocations on extra ("" for none), passing the alias's RevisionId. It
// writes nothing when the alias already routes so.
func (p *Platform) route(ctx context.Context, d deployment, a *types.AliasConfiguration, primary, extra string, weight float64) error {
	want := map[string]float64{}
	if extra != "" && weight > 0 {
		want[extra] = math.Round(weight*100) / 100
	}
	have := weights(a)
	if aws.ToString(a.FunctionVersion) == primary && maps.Equal(have, want) {
		return nil
	}
	in := &awslambda.UpdateAliasInput{FunctionName: aws.String(d.name()), Name: aws.String(d.alias), FunctionVersion: aws.String(primary),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: want}, RevisionId: a.RevisionId}
	err := p.write(d, "update alias", func() error {
		out, err := p.c.Lambda.UpdateAlias(ctx, in)
		if err == nil {
			a.FunctionVersion, a.RoutingConfig, a.RevisionId = out.FunctionVersion, out.RoutingConfig, out.RevisionId
		}
		return err
	})
	if err == nil {
		p.logger(d.Deployment, "traffic").Info("routed alias", "alias", d.alias, "version", primary, "extra", extra, "weight", weight)
	}
	return err
}

var _ reconcile.VersionNamer = (*Platform)(nil)

// Versions names the rollout's versions by number, as Lambda's
// ExecutedVersion metric dimension does: the new version (once
// published) and the stable one (the alias's version while it is not the
// new one, else the previous revision's version).
func (p *Platform) Versions(ctx context.Context, rd *reconcile.Deployment) (reconcile.RolloutVersions, error) {
	r, err := p.readRollout(ctx, rd)
	if err != nil || r.l == nil {
		return reconcile.RolloutVersions{}, err
	}
	v := reconcile.RolloutVersions{New: r.nextVersion(), Stable: r.primary()}
	if v.Stable == v.New {
		v.Stable = ""
		if prev := p.previousVersion(r); prev != nil {
			v.Stable = aws.ToString(prev.Version)
		}
	}
	return v, nil
}
