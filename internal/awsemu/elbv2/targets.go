package elbv2

import (
	"strconv"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/artifact"
	"github.com/jibe-dev/jibe/internal/awsemu/ecs"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Target health states, as DescribeTargetHealth reports them.
const (
	stateInitial     = "initial"
	stateHealthy     = "healthy"
	stateUnhealthy   = "unhealthy"
	stateDraining    = "draining"
	stateUnused      = "unused"
	stateUnavailable = "unavailable"
)

// target is one registered target.
type target struct {
	id         string
	port       int
	az         string
	registered time.Time
	behavior   artifact.Behavior
	errAcc     float64 // error-rate accumulator of the traffic model
	draining   bool
	drainStart time.Time
}

// health is a target's state at one instant.
type health struct {
	state, reason, description string
}

// health evaluates the target's health checks at now: a target becomes
// healthy after HealthyThresholdCount successful checks, or, when broken,
// unhealthy after UnhealthyThresholdCount failed ones; draining targets
// leave after the deregistration delay.
func (tg *targetGroup) health(t *target, now time.Time, inUse bool) (health, bool) {
	if t.draining {
		if now.Sub(t.drainStart) >= tg.deregistrationDelay() {
			return health{}, false
		}
		return health{stateDraining, "Target.DeregistrationInProgress", "Target deregistration is in progress"}, true
	}
	if !inUse {
		return health{stateUnused, "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"}, true
	}
	if !tg.hc.enabled {
		return health{stateUnavailable, "Target.HealthCheckDisabled", "Health checks are disabled"}, true
	}
	interval := time.Duration(tg.hc.interval) * time.Second
	elapsed := now.Sub(t.registered)
	if t.behavior.Broken {
		if elapsed >= interval*time.Duration(tg.hc.unhealthy) {
			return health{stateUnhealthy, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [502]"}, true
		}
		return health{stateInitial, "Elb.InitialHealthChecking", "Initial health checks in progress"}, true
	}
	if elapsed >= interval*time.Duration(tg.hc.healthy) {
		return health{state: stateHealthy}, true
	}
	return health{stateInitial, "Elb.InitialHealthChecking", "Initial health checks in progress"}, true
}

func (tg *targetGroup) find(id string, port int) *target {
	for _, t := range tg.targets {
		if t.id == id && t.port == port {
			return t
		}
	}
	return nil
}

// register adds or re-registers a target; re-registering cancels draining.
func (tg *targetGroup) register(id string, port int, az string, b artifact.Behavior, now time.Time) {
	if t := tg.find(id, port); t != nil {
		if t.draining {
			t.draining, t.registered, t.behavior = false, now, b
		}
		return
	}
	tg.targets = append(tg.targets, &target{id: id, port: port, az: az, registered: now, behavior: b})
}

// deregister starts draining a target; it reports false if not registered.
func (tg *targetGroup) deregister(id string, port int, now time.Time) bool {
	t := tg.find(id, port)
	if t == nil {
		return false
	}
	if !t.draining {
		t.draining, t.drainStart = true, now
	}
	return true
}

// targetPort returns the port of a Targets.member entry, defaulting to the
// target group's port.
func (tg *targetGroup) targetPort(m protocol.Form) int {
	if p, ok := m.Int("Port"); ok {
		return p
	}
	return tg.port
}

func (s *Service) registerTargets(r *region, f protocol.Form, now time.Time) (any, error) {
	tg, err := r.findTG(f.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	members := f.List("Targets")
	if len(members) == 0 {
		return nil, validation("Targets must not be empty")
	}
	for _, m := range members {
		if m.String("Id") == "" {
			return nil, protocol.Errorf("InvalidTarget", "The target Id must be specified")
		}
		if err := tg.checkTargetID(m.String("Id")); err != nil {
			return nil, err
		}
		if tg.typ == "lambda" && len(tg.targets) > 0 && tg.targets[0].id != m.String("Id") && !tg.targets[0].draining {
			return nil, protocol.Errorf("TooManyTargets", "A target group with target type 'lambda' can have only one target")
		}
	}
	if err := s.checkLambdaTargets(r, tg, members); err != nil {
		return nil, err
	}
	for _, m := range members {
		tg.register(m.String("Id"), tg.targetPort(m), m.String("AvailabilityZone"), artifact.Behavior{}, now)
	}
	return nil, nil
}

// elbPrincipal is the service principal Lambda policies must allow.
const elbPrincipal = "elasticloadbalancing.amazonaws.com"

// checkLambdaTargets requires lambda targets to allow invocation by
// Elastic Load Balancing from this target group, as AWS does.
func (s *Service) checkLambdaTargets(r *region, tg *targetGroup, members []protocol.Form) error {
	if tg.typ != "lambda" || s.cfg.Functions == nil {
		return nil
	}
	for _, m := range members {
		if !s.cfg.Functions.AllowsInvoke(r.scope, m.String("Id"), elbPrincipal, tg.arn) {
			return protocol.StatusErrorf(403, "AccessDenied", "elasticloadbalancing principal does not have permission to invoke %s from target group %s", m.String("Id"), tg.arn)
		}
	}
	return nil
}

func (s *Service) deregisterTargets(r *region, f protocol.Form, now time.Time) (any, error) {
	tg, err := r.findTG(f.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	for _, m := range f.List("Targets") {
		if tg.find(m.String("Id"), tg.targetPort(m)) == nil {
			return nil, protocol.Errorf("InvalidTarget", "The following targets are not registered in target group: '%s'", m.String("Id"))
		}
	}
	for _, m := range f.List("Targets") {
		tg.deregister(m.String("Id"), tg.targetPort(m), now)
	}
	return nil, nil
}

type xmlTarget struct {
	Id               string
	Port             *int   `xml:",omitempty"`
	AvailabilityZone string `xml:",omitempty"`
}

type xmlTargetHealth struct {
	State       string
	Reason      string `xml:",omitempty"`
	Description string `xml:",omitempty"`
}

type xmlTargetHealthDescription struct {
	Target          xmlTarget
	HealthCheckPort string `xml:",omitempty"`
	TargetHealth    xmlTargetHealth
}

type targetHealthResult struct {
	TargetHealthDescriptions []xmlTargetHealthDescription `xml:"TargetHealthDescriptions>member"`
}

func (s *Service) describeTargetHealth(r *region, f protocol.Form, now time.Time) (any, error) {
	tg, err := r.findTG(f.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	inUse := len(r.tgLoadBalancers(tg.arn)) > 0
	out := &targetHealthResult{}
	if asked := f.List("Targets"); len(asked) > 0 {
		for _, m := range asked {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, tg.describe(m.String("Id"), tg.targetPort(m), now, inUse))
		}
		return out, nil
	}
	for _, t := range tg.targets {
		if h, ok := tg.health(t, now, inUse); ok {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, tg.describeTarget(t.id, t.port, h))
		}
	}
	return out, nil
}

// describe reports one asked-for target, "unused/Target.NotRegistered"
// when it is not (or no longer) registered.
func (tg *targetGroup) describe(id string, port int, now time.Time, inUse bool) xmlTargetHealthDescription {
	if t := tg.find(id, port); t != nil {
		if h, ok := tg.health(t, now, inUse); ok {
			return tg.describeTarget(id, port, h)
		}
	}
	return tg.describeTarget(id, port, health{stateUnused, "Target.NotRegistered", "Target is not registered to the target group"})
}

func (tg *targetGroup) describeTarget(id string, port int, h health) xmlTargetHealthDescription {
	d := xmlTargetHealthDescription{Target: xmlTarget{Id: id}, TargetHealth: xmlTargetHealth{State: h.state, Reason: h.reason, Description: h.description}}
	if tg.typ != "lambda" {
		p := port
		d.Target.Port = &p
		d.HealthCheckPort = strconv.Itoa(port)
	}
	return d
}

// Step forgets targets whose draining finished.
func (s *Service) Step(now time.Time) {
	for _, r := range s.regions {
		for _, tg := range r.tgs {
			kept := tg.targets[:0]
			for _, t := range tg.targets {
				if !t.draining || now.Sub(t.drainStart) < tg.deregistrationDelay() {
					kept = append(kept, t)
				}
			}
			tg.targets = kept
		}
	}
}

// TargetGroupType returns the target type of a target group, and false
// when it does not exist.
func (s *Service) TargetGroupType(scope protocol.Scope, arn string) (string, bool) {
	tg, ok := s.region(scope).tgs[arn]
	if !ok {
		return "", false
	}
	return tg.typ, true
}

// TargetGroupAttached reports whether a listener or rule forwards to the
// target group.
func (s *Service) TargetGroupAttached(scope protocol.Scope, arn string) bool {
	return len(s.region(scope).tgLoadBalancers(arn)) > 0
}

// portOr returns port, or the target group's port when port is zero.
func (tg *targetGroup) portOr(port int32) int {
	if port == 0 {
		return tg.port
	}
	return int(port)
}

// RegisterTarget registers id:port (port 0: the target group's port) on
// behalf of another service; broken targets fail their health checks.
func (s *Service) RegisterTarget(scope protocol.Scope, arn, id string, port int32, b artifact.Behavior, now time.Time) error {
	tg, err := s.region(scope).findTG(arn)
	if err != nil {
		return err
	}
	tg.register(id, tg.portOr(port), "", b, now)
	return nil
}

// DeregisterTarget starts draining id:port on behalf of another service.
func (s *Service) DeregisterTarget(scope protocol.Scope, arn, id string, port int32, now time.Time) error {
	tg, err := s.region(scope).findTG(arn)
	if err != nil {
		return err
	}
	tg.deregister(id, tg.portOr(port), now)
	return nil
}

// TargetState returns the health state of id:port, or ecs.TargetGone when
// it is not registered any more.
func (s *Service) TargetState(scope protocol.Scope, arn, id string, port int32, now time.Time) ecs.TargetState {
	r := s.region(scope)
	tg, ok := r.tgs[arn]
	if !ok {
		return ecs.TargetGone
	}
	t := tg.find(id, tg.portOr(port))
	if t == nil {
		return ecs.TargetGone
	}
	h, ok := tg.health(t, now, len(r.tgLoadBalancers(arn)) > 0)
	if !ok {
		return ecs.TargetGone
	}
	return ecs.TargetState(h.state)
}

var _ ecs.Targets = (*Service)(nil)

// HealthCheckInterval returns the health check interval of a target
// group (30s when it does not exist).
func (s *Service) HealthCheckInterval(scope protocol.Scope, arn string) time.Duration {
	if tg, ok := s.region(scope).tgs[arn]; ok {
		return time.Duration(tg.hc.interval) * time.Second
	}
	return 30 * time.Second
}
