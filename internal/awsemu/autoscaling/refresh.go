package autoscaling

import (
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Instance refresh statuses.
const (
	refreshPending    = "Pending"
	refreshInProgress = "InProgress"
	refreshSuccessful = "Successful"
	refreshCancelled  = "Cancelled"
	refreshFailed     = "Failed"
	rollbackProgress  = "RollbackInProgress"
	rollbackSucceeded = "RollbackSuccessful"
)

// refresh is one instance refresh.
type refresh struct {
	id, status, reason string
	start, end         time.Time
	minHealthy, warmup int
	version            int // template version instances are refreshed to
	total, pct         int
	// skipMatching leaves instances already on the desired version;
	// without it every instance launched before the refresh is replaced.
	skipMatching, autoRollback bool
	// prev is the group's launch template before a refresh started with
	// a desired configuration, which a rollback restores; nil otherwise.
	prev *ltSpec
	// desired is the DesiredConfiguration's launch template, if given,
	// and desiredMixed its mixed instances policy, if it gave one;
	// prevMixed is the group's policy before, which a rollback or a
	// cancel restores with prev.
	desired                 *ltSpec
	desiredMixed, prevMixed *mixedPolicy
	// checkpoints are the CheckpointPercentages, reached in order: the
	// refresh replaces no more than the next one allows, then waits
	// CheckpointDelay seconds (default 3600) once its replacements are
	// healthy and warm, before going on. next is the next checkpoint's
	// index and pausedUntil the end of the current wait.
	checkpoints []int
	delay, next int
	pausedUntil time.Time
}

func (r *refresh) active() bool {
	return r.status == refreshPending || r.status == refreshInProgress || r.status == rollbackProgress
}

func (s *Service) startInstanceRefresh(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if len(g.refreshes) > 0 && g.refreshes[0].active() {
		return nil, protocol.Errorf("InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
	}
	want, prev := g.lt, (*ltSpec)(nil)
	lt, mixed, hasDesired, err := s.launchTemplateOf(r, f.Sub("DesiredConfiguration"))
	if err != nil {
		return nil, err
	}
	if hasDesired {
		want = lt
		old := g.lt
		prev = &old
	}
	var desired *ltSpec
	if prev != nil {
		w := want
		desired = &w
	}
	if err := checkPreferences(f); err != nil {
		return nil, err
	}
	t, err := s.cfg.Templates.Resolve(r.scope, want.ID, want.Name, want.Version)
	if err != nil {
		return nil, validation("%v", err)
	}
	ref := &refresh{id: s.newID("refresh-"), status: refreshPending, start: now, minHealthy: 90, version: t.Version, total: len(g.live()), prev: prev, desired: desired,
		prevMixed: g.mixed, desiredMixed: mixed}
	ref.skipMatching, _ = f.Bool("Preferences.SkipMatching")
	ref.autoRollback, _ = f.Bool("Preferences.AutoRollback")
	if ref.autoRollback && (prev == nil || isAlias(want.Version)) {
		return nil, validation("AutoRollback needs a DesiredConfiguration with a launch template version number, not $Latest or $Default")
	}
	if v, ok := f.Int("Preferences.MinHealthyPercentage"); ok {
		ref.minHealthy = v
	}
	if v, ok := f.Int("Preferences.InstanceWarmup"); ok {
		ref.warmup = v
	}
	if err := ref.readCheckpoints(f); err != nil {
		return nil, err
	}
	g.lt = want // only once the call is accepted
	if hasDesired {
		g.mixed = mixed
	}
	g.refreshes = append([]*refresh{ref}, g.refreshes...)
	return &struct{ InstanceRefreshId string }{ref.id}, nil
}

// stepRefresh replaces instances on older template versions, keeping at
// least MinHealthyPercentage of the desired capacity serving, and
// completes once every instance runs the new version.
func (s *Service) stepRefresh(r *region, g *group, now time.Time) {
	if len(g.refreshes) == 0 || !g.refreshes[0].active() {
		return
	}
	ref := g.refreshes[0]
	if ref.status == refreshPending {
		ref.status = refreshInProgress
	}
	var old []*instance
	serving, inFlight, updated := 0, 0, 0
	for _, in := range g.instances {
		switch {
		case in.state == stateTerminating, in.state == statePending, in.state == statePendingWait:
			inFlight++
		case in.version == ref.version && !s.warmedUp(r, ref, in, now):
			inFlight++ // launched by the refresh, not yet healthy and warm
		case in.version != ref.version, !ref.skipMatching && in.launched.Before(ref.start):
			old = append(old, in)
		default:
			updated++
		}
		if s.serving(r, in, now) {
			serving++
		}
	}
	s.progress(ref, updated)
	if ref.atCheckpoint(len(old), inFlight, now) {
		return
	}
	if len(old) == 0 && inFlight == 0 {
		done := refreshSuccessful
		if ref.status == rollbackProgress {
			done = rollbackSucceeded
		}
		ref.status, ref.end, ref.pct = done, now, 100
		return
	}
	allowed := max(1, serving-ceilPercent(g.desired, ref.minHealthy))
	done := ref.total - len(old)
	for _, in := range old {
		if inFlight >= allowed || done >= ref.checkpointTarget() {
			return
		}
		done++
		s.terminate(r, in, now)
		inFlight++
	}
}

// progress sets the refresh's PercentageComplete as AWS documents it: the
// share of instances on the desired configuration that are healthy and
// past their warmup (replaced or skipped as matching), below 100 until
// the refresh succeeds.
func (s *Service) progress(ref *refresh, updated int) {
	if ref.total == 0 {
		ref.pct = 0
		return
	}
	ref.pct = min(99, 100*min(updated, ref.total)/ref.total)
}

type xmlRefresh struct {
	InstanceRefreshId    string
	AutoScalingGroupName string
	Status               string
	StatusReason         string `xml:",omitempty"`
	StartTime            string
	EndTime              string `xml:",omitempty"`
	PercentageComplete   int
	InstancesToUpdate    int
	DesiredConfiguration *xmlDesired `xml:",omitempty"`
	Preferences          *xmlPreferences
}

type xmlDesired struct {
	LaunchTemplate       *ltSpec   `xml:",omitempty"`
	MixedInstancesPolicy *xmlMixed `xml:",omitempty"`
}

type refreshesResult struct {
	InstanceRefreshes []xmlRefresh `xml:"InstanceRefreshes>member"`
}

func (s *Service) describeInstanceRefreshes(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	ids := f.Strings("InstanceRefreshIds")
	out := &refreshesResult{}
	for _, ref := range g.refreshes {
		if len(ids) > 0 && !contains(ids, ref.id) {
			continue
		}
		x := xmlRefresh{InstanceRefreshId: ref.id, AutoScalingGroupName: g.name, Status: ref.status, StatusReason: ref.reason,
			StartTime: isoTime(ref.start), PercentageComplete: ref.pct, InstancesToUpdate: ref.total * (100 - ref.pct) / 100, Preferences: ref.preferences()}
		if ref.desired != nil {
			x.DesiredConfiguration = &xmlDesired{LaunchTemplate: ref.desired}
			if ref.desiredMixed != nil {
				x.DesiredConfiguration = &xmlDesired{MixedInstancesPolicy: ref.desiredMixed.xml(*ref.desired)}
			}
		}
		if !ref.end.IsZero() {
			x.EndTime = isoTime(ref.end)
		}
		out.InstanceRefreshes = append(out.InstanceRefreshes, x)
	}
	return out, nil
}

func (s *Service) cancelInstanceRefresh(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if len(g.refreshes) == 0 || !g.refreshes[0].active() {
		return nil, protocol.Errorf("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group %s", g.name)
	}
	ref := g.refreshes[0]
	ref.status, ref.end = refreshCancelled, now
	if ref.prev != nil {
		g.lt, g.mixed = *ref.prev, ref.prevMixed // as on AWS, a cancelled refresh never applies its desired configuration
	}
	return &struct{ InstanceRefreshId string }{ref.id}, nil
}

// isAlias reports whether a launch template version is $Latest or
// $Default (or unset, which means $Default).
func isAlias(v string) bool { return v == "" || v == "$Latest" || v == "$Default" }

// rollbackInstanceRefresh rolls an active refresh back: the group's
// previous launch template is restored and instances launched from the
// new one are replaced. As on AWS, only a refresh started with a desired
// configuration naming a version number can be rolled back.
func (s *Service) rollbackInstanceRefresh(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if len(g.refreshes) == 0 || !g.refreshes[0].active() || g.refreshes[0].status == rollbackProgress {
		return nil, protocol.Errorf("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group %s", g.name)
	}
	ref := g.refreshes[0]
	if err := s.rollback(r, g, ref, "Rollback requested by the user"); err != nil {
		return nil, err
	}
	return &struct{ InstanceRefreshId string }{ref.id}, nil
}

// rollback turns ref into a rollback to the group's previous template.
func (s *Service) rollback(r *region, g *group, ref *refresh, reason string) error {
	if ref.prev == nil || isAlias(ref.prev.Version) {
		return protocol.Errorf("IrreversibleInstanceRefresh", "The instance refresh %s cannot be rolled back: it was started without a desired configuration, or the previous launch template version is $Latest or $Default", ref.id)
	}
	t, err := s.cfg.Templates.Resolve(r.scope, ref.prev.ID, ref.prev.Name, ref.prev.Version)
	if err != nil {
		return validation("%v", err)
	}
	g.lt, g.mixed, ref.version, ref.status, ref.reason, ref.skipMatching = *ref.prev, ref.prevMixed, t.Version, rollbackProgress, reason, true
	ref.next, ref.pausedUntil = len(ref.checkpoints), time.Time{} // a rollback does not stop at checkpoints
	return nil
}

// replacementFailed fails the group's active refresh (or rolls it back,
// with AutoRollback) when an instance it launched fails its health check.
func (s *Service) replacementFailed(r *region, g *group, in *instance, now time.Time) {
	if len(g.refreshes) == 0 {
		return
	}
	ref := g.refreshes[0]
	if ref.status != refreshInProgress || in.version != ref.version {
		return
	}
	reason := fmt.Sprintf("Instance refresh failed: instance %s launched by it failed its health checks", in.id)
	if ref.autoRollback && s.rollback(r, g, ref, reason) == nil {
		return
	}
	ref.status, ref.end, ref.reason = refreshFailed, now, reason
}

// warmedUp reports whether an instance the refresh launched serves and
// has been InService for the refresh's instance warmup.
func (s *Service) warmedUp(r *region, ref *refresh, in *instance, now time.Time) bool {
	return s.serving(r, in, now) && now.Sub(in.since) >= time.Duration(ref.warmup)*time.Second
}

// checkPreferences applies RefreshPreferences' ranges as AWS does:
// MinHealthyPercentage 0..100, MaxHealthyPercentage 100..200 and at most
// 100 above the minimum (90 by default), InstanceWarmup not negative.
func checkPreferences(f protocol.Form) error {
	inRange := func(key, field string, lo, hi int) error {
		v, ok := f.Int("Preferences." + key)
		switch {
		case !ok:
		case v < lo:
			return validation("1 validation error detected: Value '%d' at 'preferences.%s' failed to satisfy constraint: Member must have value greater than or equal to %d", v, field, lo)
		case hi >= lo && v > hi:
			return validation("1 validation error detected: Value '%d' at 'preferences.%s' failed to satisfy constraint: Member must have value less than or equal to %d", v, field, hi)
		}
		return nil
	}
	for _, err := range []error{
		inRange("MinHealthyPercentage", "minHealthyPercentage", 0, 100),
		inRange("MaxHealthyPercentage", "maxHealthyPercentage", 100, 200),
		inRange("InstanceWarmup", "instanceWarmup", 0, -1),
	} {
		if err != nil {
			return err
		}
	}
	minHealthy, ok := f.Int("Preferences.MinHealthyPercentage")
	if !ok {
		minHealthy = 90
	}
	if maxHealthy, ok := f.Int("Preferences.MaxHealthyPercentage"); ok && maxHealthy-minHealthy > 100 {
		return validation("The difference between MaxHealthyPercentage and MinHealthyPercentage must be less than or equal to 100")
	}
	return nil
}
