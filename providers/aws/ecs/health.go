package ecs

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
)

// serviceHealth reads the PRIMARY deployment of a service that should run
// the rendered task definition: IN_PROGRESS is progressing, COMPLETED
// healthy and FAILED failed with ECS's reason. A PRIMARY deployment of
// another task definition means the circuit breaker rolled the service
// back: that is a failure too, with the breaker's reason.
func (p *Platform) serviceHealth(ctx context.Context, d *reconcile.Deployment, s *ecstypes.Service) (reconcile.Health, error) {
	if s == nil || len(s.Deployments) == 0 {
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: "service has no deployment yet"}, nil
	}
	primary := primaryDeployment(s)
	changes, err := p.taskDefChanges(ctx, aws.ToString(primary.TaskDefinition), d.Target.TaskDefinition)
	if err != nil {
		return reconcile.Health{}, err
	}
	if len(changes) > 0 {
		return reconcile.Health{State: reconcile.HealthFailed, Reason: rolledBackReason(s), Instances: serviceInstances(s)}, nil
	}
	h := rolloutHealth(aws.ToString(s.ServiceName), primary)
	h.Instances = serviceInstances(s)
	if h.State == reconcile.HealthProgressing && primary.DesiredCount > 0 && primary.RunningCount == primary.DesiredCount {
		if h.Reason, err = p.targetsReason(ctx, s, primary); err != nil {
			return reconcile.Health{}, err
		}
	}
	return h, nil
}

// targetsReason is the reason of a deployment whose tasks all run but
// that ECS has not completed: what its target groups say of the tasks,
// e.g. "service web: 2 of 2 tasks running; targets initial (health checks
// pass after 3 × 10 s)"; ECS's own reason without target groups.
func (p *Platform) targetsReason(ctx context.Context, s *ecstypes.Service, dep *ecstypes.Deployment) (string, error) {
	why := []string{fmt.Sprintf("service %s: %d of %d tasks running", aws.ToString(s.ServiceName), dep.RunningCount, dep.DesiredCount)}
	for _, lb := range s.LoadBalancers {
		if tg := aws.ToString(lb.TargetGroupArn); tg != "" {
			d, err := albtraffic.DescribeTargets(ctx, p.c.ELB, tg)
			if err != nil {
				return "", err
			}
			why = append(why, d)
		}
	}
	if len(why) == 1 {
		why = append(why, aws.ToString(dep.RolloutStateReason))
	}
	return strings.Join(why, "; "), nil
}

// rolloutHealth maps a deployment's rolloutState to a Health.
func rolloutHealth(name string, dep *ecstypes.Deployment) reconcile.Health {
	reason := aws.ToString(dep.RolloutStateReason)
	switch dep.RolloutState {
	case ecstypes.DeploymentRolloutStateCompleted:
		return reconcile.Health{State: reconcile.HealthHealthy, Reason: reason}
	case ecstypes.DeploymentRolloutStateFailed:
		return reconcile.Health{State: reconcile.HealthFailed, Reason: reason}
	}
	return reconcile.Health{State: reconcile.HealthProgressing,
		Reason: fmt.Sprintf("service %s: %d of %d tasks running; %s", name, dep.RunningCount, dep.DesiredCount, reason)}
}

func primaryDeployment(s *ecstypes.Service) *ecstypes.Deployment {
	for i := range s.Deployments {
		if aws.ToString(s.Deployments[i].Status) == "PRIMARY" {
			return &s.Deployments[i]
		}
	}
	return &s.Deployments[0]
}

// rolledBackReason explains why a service no longer runs the desired task
// definition: a failed deployment's reason, the circuit breaker's rollback
// reason or its service event.
func rolledBackReason(s *ecstypes.Service) string {
	for _, dep := range s.Deployments {
		if dep.RolloutState == ecstypes.DeploymentRolloutStateFailed {
			return aws.ToString(dep.RolloutStateReason)
		}
	}
	if r := aws.ToString(primaryDeployment(s).RolloutStateReason); strings.Contains(r, "circuit breaker") {
		return r
	}
	for _, ev := range s.Events {
		if m := aws.ToString(ev.Message); strings.Contains(m, "deployment failed") {
			return m
		}
	}
	return fmt.Sprintf("service %s runs task definition %s, not the revision's (rolled back or changed outside Jibe)",
		aws.ToString(s.ServiceName), aws.ToString(s.TaskDefinition))
}

// slotHealth is a blue/green or canary service's health: its rollout,
// and then every target of its target group healthy.
func (p *Platform) slotHealth(ctx context.Context, d *reconcile.Deployment, s *ecstypes.Service, tg string) (reconcile.Health, error) {
	h, err := p.serviceHealth(ctx, d, s)
	if err != nil || h.State != reconcile.HealthHealthy {
		return h, err
	}
	if s.DesiredCount == 0 {
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: "service " + aws.ToString(s.ServiceName) + " has no tasks desired", Instances: h.Instances}, nil
	}
	ok, reason, err := albtraffic.TargetsHealthy(ctx, p.c.ELB, tg, s.DesiredCount)
	if err != nil {
		return reconcile.Health{}, err
	}
	if !ok {
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: reason, Instances: h.Instances}, nil
	}
	return reconcile.Health{State: reconcile.HealthHealthy, Reason: reason, Instances: h.Instances}, nil
}
