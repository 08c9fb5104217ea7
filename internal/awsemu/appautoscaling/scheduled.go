package appautoscaling

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// scheduled is a scheduled action and when it runs next (zero: never).
type scheduled struct {
	action types.ScheduledAction
	every  time.Duration // for rate(); 0 otherwise
	next   time.Time
}

var (
	atRE   = regexp.MustCompile(`^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$`)
	rateRE = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	cronRE = regexp.MustCompile(`^cron\(\S+( \S+){5}\)$`)
)

// parseSchedule returns when a schedule runs first after now and how often
// it repeats. at() runs once, rate() repeats; cron() is accepted and kept
// but not run by the emulator.
func parseSchedule(schedule, timezone string, now time.Time) (time.Time, time.Duration, error) {
	loc := time.UTC
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil {
			return time.Time{}, 0, validation("Timezone %q is not a valid time zone", timezone)
		}
		loc = l
	}
	if m := atRE.FindStringSubmatch(schedule); m != nil {
		t, err := time.ParseInLocation("2006-01-02T15:04:05", m[1], loc)
		if err != nil {
			return time.Time{}, 0, validation("Schedule %q has an invalid time", schedule)
		}
		return t, 0, nil
	}
	if m := rateRE.FindStringSubmatch(schedule); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
		if n < 1 {
			return time.Time{}, 0, validation("Schedule %q must have a rate of at least 1", schedule)
		}
		return now.Add(time.Duration(n) * unit), time.Duration(n) * unit, nil
	}
	if cronRE.MatchString(schedule) {
		return time.Time{}, 0, nil
	}
	return time.Time{}, 0, validation("Schedule %q is not at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)", schedule)
}

func (s *Service) putScheduledAction(r *region, c *protocol.Call) (any, error) {
	var in aas.PutScheduledActionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	k, err := r.registered(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	if aws.ToString(in.ScheduledActionName) == "" || aws.ToString(in.Schedule) == "" {
		return nil, validation("ScheduledActionName and Schedule are required")
	}
	next, every, err := parseSchedule(aws.ToString(in.Schedule), aws.ToString(in.Timezone), c.Now)
	if err != nil {
		return nil, err
	}
	sk := k + "/" + aws.ToString(in.ScheduledActionName)
	prev, exists := r.scheduled[sk]
	a := types.ScheduledAction{
		ScheduledActionName: in.ScheduledActionName, ServiceNamespace: in.ServiceNamespace, Schedule: in.Schedule,
		Timezone: in.Timezone, ResourceId: in.ResourceId, ScalableDimension: in.ScalableDimension,
		StartTime: in.StartTime, EndTime: in.EndTime, ScalableTargetAction: in.ScalableTargetAction, CreationTime: aws.Time(c.Now),
	}
	if exists {
		a.ScheduledActionARN, a.CreationTime = prev.action.ScheduledActionARN, prev.action.CreationTime
	} else {
		s.ids++
		a.ScheduledActionARN = aws.String(fmt.Sprintf("arn:aws:autoscaling:%s:%s:scheduledAction:%08x-0000-4000-8000-%012x:resource/%s/%s:scheduledActionName/%s",
			c.Region, c.Account, s.ids, s.ids, in.ServiceNamespace, aws.ToString(in.ResourceId), aws.ToString(in.ScheduledActionName)))
	}
	r.scheduled[sk] = &scheduled{action: a, every: every, next: next}
	return &aas.PutScheduledActionOutput{}, nil
}

func (s *Service) describeScheduledActions(r *region, c *protocol.Call) (any, error) {
	var in aas.DescribeScheduledActionsInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	sel := selection{in.ServiceNamespace, in.ResourceId, in.ScalableDimension, in.ScheduledActionNames}
	var found []types.ScheduledAction
	for _, sk := range sortedKeys(r.scheduled) {
		a := r.scheduled[sk].action
		if !sel.match(a.ServiceNamespace, a.ResourceId, a.ScalableDimension, a.ScheduledActionName) {
			continue
		}
		found = append(found, a)
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 50)
	if err != nil {
		return nil, validation("invalid NextToken")
	}
	return &aas.DescribeScheduledActionsOutput{ScheduledActions: found[start:end], NextToken: optString(next)}, nil
}

func (s *Service) deleteScheduledAction(r *region, c *protocol.Call) (any, error) {
	var in aas.DeleteScheduledActionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	sk := key(in.ServiceNamespace, aws.ToString(in.ResourceId), in.ScalableDimension) + "/" + aws.ToString(in.ScheduledActionName)
	if _, ok := r.scheduled[sk]; !ok {
		return nil, notFound("No scheduled action found for service namespace: %s, resource ID: %s, scalable dimension: %s, scheduled action name: %s",
			in.ServiceNamespace, aws.ToString(in.ResourceId), in.ScalableDimension, aws.ToString(in.ScheduledActionName))
	}
	delete(r.scheduled, sk)
	return &aas.DeleteScheduledActionOutput{}, nil
}

// runScheduled runs the scheduled actions that are due: each sets its
// target's capacity bounds and clamps the resource's capacity into them.
func (s *Service) runScheduled(scope protocol.Scope, r *region, now time.Time) {
	for _, sk := range sortedKeys(r.scheduled) {
		sa := r.scheduled[sk]
		if sa.next.IsZero() || now.Before(sa.next) {
			continue
		}
		if sa.every > 0 {
			sa.next = sa.next.Add(sa.every)
		} else {
			sa.next = time.Time{}
		}
		s.applyScheduled(scope, r, &sa.action, now)
	}
}

func (s *Service) applyScheduled(scope protocol.Scope, r *region, a *types.ScheduledAction, now time.Time) {
	t, ok := r.targets[key(a.ServiceNamespace, aws.ToString(a.ResourceId), a.ScalableDimension)]
	if !ok || a.ScalableTargetAction == nil {
		return
	}
	if a.ScalableTargetAction.MinCapacity != nil {
		t.MinCapacity = a.ScalableTargetAction.MinCapacity
	}
	if a.ScalableTargetAction.MaxCapacity != nil {
		t.MaxCapacity = a.ScalableTargetAction.MaxCapacity
	}
	if sc, ok := s.cfg.Scalables[a.ServiceNamespace]; ok {
		_ = sc.ClampCapacity(scope, aws.ToString(a.ResourceId), aws.ToInt32(t.MinCapacity), aws.ToInt32(t.MaxCapacity), now)
	}
}
