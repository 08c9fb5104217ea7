package ecs

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Deployment statuses.
const (
	statusPrimary  = "PRIMARY"
	statusActive   = "ACTIVE"
	statusInactive = "INACTIVE"
)

// deployment is one deployment of a service, or one task set of a
// service with the EXTERNAL deployment controller.
type deployment struct {
	d          types.Deployment
	lbs        []types.LoadBalancer
	registries []types.ServiceRegistry
	taskSet    *types.TaskSet // non-nil for task sets
	steadyAt   time.Time      // when all tasks first were healthy (bake time start)
}

// newDeployment makes a new PRIMARY deployment of the service's current
// configuration; the previous ones become ACTIVE and drain. A non-empty
// reason marks a circuit-breaker rollback.
func (s *Service) newDeployment(svc *service, now time.Time, reason string) {
	for _, old := range svc.deployments {
		old.d.Status = aws.String(statusActive)
		old.d.UpdatedAt = ptrTime(now)
	}
	s.ids++
	d := &deployment{d: types.Deployment{
		Id:                       aws.String(fmt.Sprintf("ecs-svc/%019d", s.ids)),
		Status:                   aws.String(statusPrimary),
		TaskDefinition:           aws.String(aws.ToString(svc.s.TaskDefinition)),
		DesiredCount:             svc.s.DesiredCount,
		CreatedAt:                ptrTime(now),
		UpdatedAt:                ptrTime(now),
		LaunchType:               svc.s.LaunchType,
		PlatformVersion:          svc.s.PlatformVersion,
		NetworkConfiguration:     svc.s.NetworkConfiguration,
		CapacityProviderStrategy: svc.s.CapacityProviderStrategy,
		RolloutState:             types.DeploymentRolloutStateInProgress,
		RolloutStateReason:       aws.String("ECS deployment " + fmt.Sprintf("ecs-svc/%019d", s.ids) + " in progress."),
	}}
	if reason != "" {
		d.d.RolloutStateReason = aws.String(reason)
	}
	d.lbs, d.registries = svc.s.LoadBalancers, svc.s.ServiceRegistries
	svc.deployments = append([]*deployment{d}, svc.deployments...)
}

// deploymentView returns the deployment with its live task counts.
func (s *Service) deploymentView(svc *service, d *deployment) types.Deployment {
	v := d.d
	v.RunningCount, v.PendingCount = 0, 0
	for _, t := range svc.cluster.tasks {
		if t.dep != d {
			continue
		}
		switch t.status() {
		case "RUNNING":
			v.RunningCount++
		case "PROVISIONING", "PENDING":
			v.PendingCount++
		}
	}
	return v
}

// Step advances every task and service of every region to now.
func (s *Service) Step(now time.Time) {
	for _, r := range sortedRegions(s.regions) {
		for _, name := range r.order {
			cl := r.clusters[name]
			s.stepTasks(r, cl, now)
			for _, sn := range cl.svcOrder {
				s.stepService(r, cl.services[sn], now)
			}
		}
	}
}

func sortedRegions(m map[protocol.Scope]*region) []*region {
	out := make([]*region, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].scope.Account != out[j].scope.Account {
			return out[i].scope.Account < out[j].scope.Account
		}
		return out[i].scope.Region < out[j].scope.Region
	})
	return out
}

// stepService runs one round of the rolling-update scheduler.
func (s *Service) stepService(r *region, svc *service, now time.Time) {
	switch aws.ToString(svc.s.Status) {
	case "DRAINING":
		s.drainService(svc, now)
		return
	case "INACTIVE":
		return
	}
	if svc.external() {
		s.stepTaskSets(r, svc, now)
		return
	}
	s.checkCircuitBreaker(svc, now)
	s.stopOldTasks(svc, now)
	s.launchTasks(r, svc, now)
	s.completeDeployment(svc, now)
}

// bounds returns the task count limits of a rolling update.
func bounds(svc *service) (maxTotal, minHealthy int) {
	desired := float64(svc.s.DesiredCount)
	dc := svc.s.DeploymentConfiguration
	maxTotal = int(math.Floor(desired * float64(aws.ToInt32(dc.MaximumPercent)) / 100))
	minHealthy = int(math.Ceil(desired * float64(aws.ToInt32(dc.MinimumHealthyPercent)) / 100))
	return max(maxTotal, int(svc.s.DesiredCount)), minHealthy
}

// launchTasks starts tasks for the PRIMARY deployment up to the desired
// count, within maximumPercent.
func (s *Service) launchTasks(r *region, svc *service, now time.Time) {
	primary := svc.deployments[0]
	if primary.d.RolloutState == types.DeploymentRolloutStateFailed {
		return
	}
	maxTotal, _ := bounds(svc)
	live := svc.liveTasks()
	mine := 0
	for _, t := range live {
		if t.dep == primary {
			mine++
		}
	}
	if mine < int(svc.s.DesiredCount) && !svc.cluster.placeable(primary.d.LaunchType, primary.d.CapacityProviderStrategy) {
		svc.unplaced(now, "Reason: "+noInstances)
		s.scaleIn(svc, primary, mine, now)
		return
	}
	td, _ := r.findTaskDef(aws.ToString(primary.d.TaskDefinition))
	var started []string
	for mine < int(svc.s.DesiredCount) && len(live) < maxTotal {
		ci, miss := svc.cluster.place(td, primary.d.LaunchType, primary.d.CapacityProviderStrategy)
		if miss != nil {
			svc.unplaced(now, miss.event())
			break
		}
		t := s.launchTask(r, svc, primary, ci, now)
		live = append(live, t)
		started = append(started, "(task "+t.id()+")")
		mine++
	}
	if len(started) > 0 {
		svc.addEvent(now, fmt.Sprintf("(service %s) has started %d tasks: %s.", aws.ToString(svc.s.ServiceName), len(started), strings.Join(started, " ")))
	}
	s.scaleIn(svc, primary, mine, now)
}

// scaleIn stops the newest PRIMARY tasks above the desired count.
func (s *Service) scaleIn(svc *service, primary *deployment, mine int, now time.Time) {
	live := svc.liveTasks()
	for i := len(live) - 1; i >= 0 && mine > int(svc.s.DesiredCount); i-- {
		if live[i].dep == primary {
			s.stopTaskAt(live[i], "Scaling activity initiated by (deployment "+aws.ToString(primary.d.Id)+")", now)
			mine--
		}
	}
}

// stopOldTasks stops tasks of non-PRIMARY deployments, unhealthy ones
// first, while the healthy count stays at or above minimumHealthyPercent.
func (s *Service) stopOldTasks(svc *service, now time.Time) {
	_, minHealthy := bounds(svc)
	primary := svc.deployments[0]
	healthy := 0
	for _, t := range svc.liveTasks() {
		if t.healthy(s, now) {
			healthy++
		}
	}
	for _, t := range svc.liveTasks() {
		if t.dep == primary {
			continue
		}
		reason := "Task stopped by deployment " + aws.ToString(primary.d.Id)
		if !t.healthy(s, now) {
			s.stopTaskAt(t, reason, now)
			continue
		}
		if healthy-1 >= minHealthy {
			s.stopTaskAt(t, reason, now)
			healthy--
		}
	}
}

// failureThreshold is the circuit breaker's failed-task threshold:
// half the desired count, at least 3 and at most 200.
func failureThreshold(desired int32) int32 {
	return min(max(int32(math.Ceil(float64(desired)*0.5)), 3), 200)
}

// checkCircuitBreaker fails the PRIMARY deployment when too many of its
// tasks failed (deployment circuit breaker) or one of its CloudWatch
// alarms is in ALARM (deployment alarms), rolling back to the last
// completed deployment when the failing mechanism asks for it.
func (s *Service) checkCircuitBreaker(svc *service, now time.Time) {
	primary := svc.deployments[0]
	if primary.d.RolloutState != types.DeploymentRolloutStateInProgress {
		return
	}
	dc := svc.s.DeploymentConfiguration
	if cb := dc.DeploymentCircuitBreaker; cb != nil && cb.Enable && primary.d.FailedTasks >= failureThreshold(svc.s.DesiredCount) {
		s.failDeployment(svc, now, "ECS deployment circuit breaker: tasks failed to start.", cb.Rollback)
		return
	}
	if name := s.alarmFiring(svc); name != "" {
		s.failDeployment(svc, now, "ECS deployment alarms: alarm "+name+" is in ALARM state.", dc.Alarms.Rollback)
	}
}

// alarmFiring returns the first of the service's deployment alarms in
// ALARM state, or "".
func (s *Service) alarmFiring(svc *service) string {
	al := svc.s.DeploymentConfiguration.Alarms
	if al == nil || !al.Enable || s.cfg.Alarms == nil {
		return ""
	}
	for _, name := range al.AlarmNames {
		if s.cfg.Alarms.AlarmState(svc.cluster.scope, name) == "ALARM" {
			return name
		}
	}
	return ""
}

// failDeployment marks the PRIMARY deployment FAILED and, with rollback,
// starts a new deployment of the last completed task definition.
func (s *Service) failDeployment(svc *service, now time.Time, reason string, rollback bool) {
	primary := svc.deployments[0]
	primary.d.RolloutState = types.DeploymentRolloutStateFailed
	primary.d.RolloutStateReason = aws.String(reason)
	primary.d.UpdatedAt = ptrTime(now)
	svc.addEvent(now, fmt.Sprintf("(service %s) (deployment %s) deployment failed: %s", aws.ToString(svc.s.ServiceName), aws.ToString(primary.d.Id), reason))
	if !rollback || svc.lastGood == "" {
		return
	}
	svc.s.TaskDefinition = aws.String(svc.lastGood)
	s.newDeployment(svc, now, "ECS deployment rolling back to the last completed deployment after "+aws.ToString(primary.d.Id)+" failed.")
}

// completeDeployment marks the PRIMARY deployment COMPLETED once all its
// tasks are healthy and older deployments have no tasks left, and then
// drops the older deployments.
func (s *Service) completeDeployment(svc *service, now time.Time) {
	primary := svc.deployments[0]
	healthy := 0
	for _, t := range svc.liveTasks() {
		if t.dep != primary {
			return
		}
		if !t.healthy(s, now) {
			return
		}
		healthy++
	}
	if healthy != int(svc.s.DesiredCount) || s.baking(svc, primary, now) {
		return
	}
	svc.deployments = svc.deployments[:1]
	if primary.d.RolloutState != types.DeploymentRolloutStateInProgress {
		return
	}
	primary.d.RolloutState = types.DeploymentRolloutStateCompleted
	primary.d.RolloutStateReason = aws.String("ECS deployment " + aws.ToString(primary.d.Id) + " completed.")
	primary.d.UpdatedAt = ptrTime(now)
	svc.lastGood = aws.ToString(primary.d.TaskDefinition)
	svc.addEvent(now, fmt.Sprintf("(service %s) has reached a steady state.", aws.ToString(svc.s.ServiceName)))
}

// baking reports whether a deployment that reached its steady state must
// still watch its deployment alarms (ECS's bake time): for the longest
// alarm window, Period × (EvaluationPeriods + 1).
func (s *Service) baking(svc *service, d *deployment, now time.Time) bool {
	al := svc.s.DeploymentConfiguration.Alarms
	if al == nil || !al.Enable || s.cfg.Alarms == nil || d.d.RolloutState != types.DeploymentRolloutStateInProgress {
		return false
	}
	if d.steadyAt.IsZero() {
		d.steadyAt = now
	}
	var bake time.Duration
	for _, name := range al.AlarmNames {
		bake = max(bake, s.cfg.Alarms.AlarmWindow(svc.cluster.scope, name))
	}
	return now.Sub(d.steadyAt) < bake
}

// drainService stops every task of a deleted service and makes it
// INACTIVE when none is left.
func (s *Service) drainService(svc *service, now time.Time) {
	for _, t := range svc.liveTasks() {
		s.stopTaskAt(t, "Service deleted", now)
	}
	for _, t := range svc.cluster.tasks {
		if t.svc == svc && t.status() != "STOPPED" {
			return
		}
	}
	svc.s.Status = aws.String("INACTIVE")
	for _, d := range svc.deployments {
		d.d.Status = aws.String(statusInactive)
	}
}

// liveTasks returns the service's tasks that are not stopping, oldest
// first.
func (svc *service) liveTasks() []*task {
	var out []*task
	for _, arn := range svc.cluster.taskList {
		t := svc.cluster.tasks[arn]
		if t != nil && t.svc == svc && t.live() {
			out = append(out, t)
		}
	}
	return out
}

// addEvent records a service event, newest first, keeping the last 100.
func (svc *service) addEvent(now time.Time, msg string) {
	ev := types.ServiceEvent{Id: aws.String(fmt.Sprintf("%d", now.UnixNano())), CreatedAt: ptrTime(now), Message: aws.String(msg)}
	svc.events = append([]types.ServiceEvent{ev}, svc.events...)
	if len(svc.events) > 100 {
		svc.events = svc.events[:100]
	}
}
