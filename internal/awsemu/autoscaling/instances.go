package autoscaling

import (
	"math"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/artifact"
	"github.com/jibe-dev/jibe/internal/awsemu/ecs"
)

// Instance lifecycle states.
const (
	statePending     = "Pending"
	stateInService   = "InService"
	stateTerminating = "Terminating"
	stateTerminated  = "Terminated"
)

// instance is one instance of a group.
type instance struct {
	id, typ, state, health string
	ltID, ltName           string
	version                int
	since, launched        time.Time
	behavior               artifact.Behavior
	// hookDeadline and hookResult: when a Pending:Wait instance's
	// heartbeat times out, and what happens then.
	hookDeadline time.Time
	hookResult   string
	registered   []string // target groups
}

// live returns the instances not being terminated.
func (g *group) live() []*instance {
	var out []*instance
	for _, in := range g.instances {
		if in.state == statePending || in.state == statePendingWait || in.state == stateInService {
			out = append(out, in)
		}
	}
	return out
}

// stepGroup advances instances, capacity and the instance refresh; it
// reports true when a deleted group is gone.
func (s *Service) stepGroup(r *region, g *group, now time.Time) bool {
	for _, in := range g.instances {
		s.stepInstance(r, g, in, now)
	}
	g.instances = removeTerminated(g.instances)
	if g.deleting {
		for _, in := range g.live() {
			s.terminate(r, in, now)
		}
		return len(g.instances) == 0
	}
	s.stepRefresh(r, g, now)
	s.converge(r, g, now)
	return false
}

func removeTerminated(list []*instance) []*instance {
	kept := list[:0]
	for _, in := range list {
		if in.state != stateTerminated {
			kept = append(kept, in)
		}
	}
	return kept
}

// converge launches or terminates instances toward the desired capacity;
// scale-in terminates instances on the oldest template version first.
func (s *Service) converge(r *region, g *group, now time.Time) {
	live := g.live()
	for i := len(live); i < g.desired && !g.suspended("Launch") && !now.Before(g.launchAfter); i++ {
		s.launch(r, g, now)
	}
	for len(live) > g.desired && !g.suspended("Terminate") {
		oldest := 0
		for i, in := range live {
			if in.version < live[oldest].version {
				oldest = i
			}
		}
		s.terminate(r, live[oldest], now)
		live = append(live[:oldest], live[oldest+1:]...)
	}
}

// launch starts a Pending instance from the group's template; an image
// that cannot launch fails the launch (a failed scaling activity).
func (s *Service) launch(r *region, g *group, now time.Time) {
	t, err := s.cfg.Templates.Resolve(r.scope, g.lt.ID, g.lt.Name, g.lt.Version)
	if err != nil {
		return
	}
	if err := s.launchable(r, t.Data.ImageId, now); err != nil {
		s.launchFailed(g, err, now)
		return
	}
	in := &instance{id: s.newID("i-"), typ: g.mixed.instanceType(t.Data.InstanceType), state: statePending, health: "Healthy", ltID: t.ID, ltName: t.Name,
		version: t.Version, since: now, launched: now}
	if s.cfg.Artifacts != nil {
		in.behavior = s.cfg.Artifacts.Image(t.Data.ImageId)
	}
	g.instances = append(g.instances, in)
}

// stepInstance moves one instance through its lifecycle and applies the
// group's health checks after the grace period.
func (s *Service) stepInstance(r *region, g *group, in *instance, now time.Time) {
	switch in.state {
	case statePending:
		if now.Sub(in.since) >= launchTime && !g.wait(in, now) {
			s.inService(r, g, in, now)
		}
	case statePendingWait:
		if !now.Before(in.hookDeadline) {
			s.endWait(r, g, in, in.hookResult, now)
		}
	case stateInService:
		if !g.suspended("HealthCheck") && s.unhealthy(r, g, in, now) {
			in.health = "Unhealthy"
			s.replacementFailed(r, g, in, now)
			if !g.suspended("ReplaceUnhealthy") {
				s.terminate(r, in, now)
			}
		}
	case stateTerminating:
		if s.drained(r, in, now) && now.Sub(in.since) >= terminateTime {
			in.state = stateTerminated
		}
	}
}

// inService puts a launched instance in service and registers it in the
// group's target groups.
func (s *Service) inService(r *region, g *group, in *instance, now time.Time) {
	in.state, in.since = stateInService, now
	for _, tg := range g.targetGroups {
		if !g.suspended("AddToLoadBalancer") {
			s.register(r, in, tg, now)
		}
	}
}

// unhealthy applies EC2 status checks (broken images fail them) or, with
// HealthCheckType ELB, the target groups' health, after the grace period.
func (s *Service) unhealthy(r *region, g *group, in *instance, now time.Time) bool {
	if now.Sub(in.launched) < time.Duration(g.grace)*time.Second {
		return false
	}
	if g.healthCheck != "ELB" || len(in.registered) == 0 {
		return in.behavior.Broken
	}
	for _, tg := range in.registered {
		if s.cfg.Targets.TargetState(r.scope, tg, in.id, 0, now) == ecs.TargetUnhealthy {
			return true
		}
	}
	return false
}

// terminate starts terminating an instance, draining it from its target
// groups first.
func (s *Service) terminate(r *region, in *instance, now time.Time) {
	if in.state == stateTerminating || in.state == stateTerminated {
		return
	}
	for _, tg := range in.registered {
		_ = s.cfg.Targets.DeregisterTarget(r.scope, tg, in.id, 0, now)
	}
	in.state, in.since = stateTerminating, now
}

func (s *Service) drained(r *region, in *instance, now time.Time) bool {
	for _, tg := range in.registered {
		if s.cfg.Targets.TargetState(r.scope, tg, in.id, 0, now) != ecs.TargetGone {
			return false
		}
	}
	return true
}

// serving reports whether an instance is InService and healthy in all its
// target groups.
func (s *Service) serving(r *region, in *instance, now time.Time) bool {
	if in.state != stateInService {
		return false
	}
	for _, tg := range in.registered {
		if s.cfg.Targets.TargetState(r.scope, tg, in.id, 0, now) != ecs.TargetHealthy {
			return false
		}
	}
	return true
}

func ceilPercent(n, pct int) int {
	return int(math.Ceil(float64(n) * float64(pct) / 100))
}
