package autoscaling

import (
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// scheduled is a scheduled action of a group. Actions are stored and
// described; the emulator does not run them.
type scheduled struct {
	AutoScalingGroupName string
	ScheduledActionName  string
	ScheduledActionARN   string
	Recurrence           string `xml:",omitempty"`
	StartTime            string `xml:",omitempty"`
	EndTime              string `xml:",omitempty"`
	TimeZone             string `xml:",omitempty"`
	MinSize              *int   `xml:",omitempty"`
	MaxSize              *int   `xml:",omitempty"`
	DesiredCapacity      *int   `xml:",omitempty"`
}

func (s *Service) putScheduledAction(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	name := f.String("ScheduledActionName")
	if name == "" {
		return nil, validation("ScheduledActionName is required")
	}
	a := &scheduled{AutoScalingGroupName: g.name, ScheduledActionName: name, Recurrence: f.String("Recurrence"), TimeZone: f.String("TimeZone"),
		StartTime: f.String("StartTime"), EndTime: f.String("EndTime"), MinSize: optInt(f, "MinSize"), MaxSize: optInt(f, "MaxSize"),
		DesiredCapacity: optInt(f, "DesiredCapacity"),
		ScheduledActionARN: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scheduledUpdateGroupAction:%s:autoScalingGroupName/%s:scheduledActionName/%s",
			r.scope.Region, r.scope.Account, s.newID("uuid-"), g.name, name)}
	if a.MinSize == nil && a.MaxSize == nil && a.DesiredCapacity == nil {
		return nil, validation("At least one of MinSize, MaxSize or DesiredCapacity must be specified")
	}
	if a.Recurrence == "" && a.StartTime == "" {
		a.StartTime = isoTime(now)
	}
	if old := g.actions[name]; old != nil {
		a.ScheduledActionARN = old.ScheduledActionARN
	}
	if g.actions == nil {
		g.actions = map[string]*scheduled{}
	}
	g.actions[name] = a
	return nil, nil
}

func optInt(f protocol.Form, name string) *int {
	if v, ok := f.Int(name); ok {
		return &v
	}
	return nil
}

type scheduledResult struct {
	ScheduledUpdateGroupActions []scheduled `xml:"ScheduledUpdateGroupActions>member"`
}

func (s *Service) describeScheduledActions(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	out := &scheduledResult{}
	names := f.Strings("ScheduledActionNames")
	for _, n := range sortedKeys(g.actions) {
		if len(names) == 0 || contains(names, n) {
			out.ScheduledUpdateGroupActions = append(out.ScheduledUpdateGroupActions, *g.actions[n])
		}
	}
	return out, nil
}

func (s *Service) deleteScheduledAction(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	name := f.String("ScheduledActionName")
	if g.actions[name] == nil {
		return nil, validation("Scheduled action %s not found", name)
	}
	delete(g.actions, name)
	return nil, nil
}
