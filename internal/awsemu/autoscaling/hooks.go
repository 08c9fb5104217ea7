package autoscaling

import (
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Lifecycle transitions and the wait state of launching instances.
const (
	transitionLaunching   = "autoscaling:EC2_INSTANCE_LAUNCHING"
	transitionTerminating = "autoscaling:EC2_INSTANCE_TERMINATING"
	statePendingWait      = "Pending:Wait"
)

// hook is a lifecycle hook of a group. Launching hooks hold new instances
// in Pending:Wait until CompleteLifecycleAction or the heartbeat timeout
// (then DefaultResult applies: CONTINUE puts the instance in service,
// ABANDON terminates it). Terminating hooks are stored, not run.
type hook struct {
	LifecycleHookName     string
	AutoScalingGroupName  string
	LifecycleTransition   string
	NotificationTargetARN string `xml:",omitempty"`
	RoleARN               string `xml:",omitempty"`
	NotificationMetadata  string `xml:",omitempty"`
	HeartbeatTimeout      int
	GlobalTimeout         int
	DefaultResult         string
}

// readHook reads a hook's parameters; base holds the values kept when
// f leaves them out (PutLifecycleHook updates what it names).
func readHook(f protocol.Form, group string, base hook) (*hook, error) {
	h := base
	h.AutoScalingGroupName = group
	if v := f.String("LifecycleHookName"); v != "" {
		h.LifecycleHookName = v
	}
	for name, dst := range map[string]*string{"LifecycleTransition": &h.LifecycleTransition, "NotificationTargetARN": &h.NotificationTargetARN,
		"RoleARN": &h.RoleARN, "NotificationMetadata": &h.NotificationMetadata, "DefaultResult": &h.DefaultResult} {
		if v := f.String(name); v != "" {
			*dst = v
		}
	}
	if v, ok := f.Int("HeartbeatTimeout"); ok {
		h.HeartbeatTimeout = v
	}
	if h.HeartbeatTimeout == 0 {
		h.HeartbeatTimeout = 3600
	}
	if h.DefaultResult == "" {
		h.DefaultResult = "ABANDON"
	}
	h.GlobalTimeout = min(100*h.HeartbeatTimeout, 172800)
	switch {
	case h.LifecycleHookName == "":
		return nil, validation("LifecycleHookName is required")
	case h.LifecycleTransition != transitionLaunching && h.LifecycleTransition != transitionTerminating:
		return nil, validation("Invalid Lifecycle Transition %q", h.LifecycleTransition)
	case h.HeartbeatTimeout < 30 || h.HeartbeatTimeout > 7200:
		return nil, validation("Heartbeat timeout must be between 30 and 7200 seconds")
	case h.DefaultResult != "CONTINUE" && h.DefaultResult != "ABANDON":
		return nil, validation("Invalid default result %q", h.DefaultResult)
	}
	return &h, nil
}

// createHooks adds the LifecycleHookSpecificationList of a
// CreateAutoScalingGroup call, so the group's first instances wait too.
func createHooks(g *group, f protocol.Form) error {
	for _, m := range f.List("LifecycleHookSpecificationList") {
		h, err := readHook(m, g.name, hook{})
		if err != nil {
			return err
		}
		g.setHook(h)
	}
	return nil
}

func (g *group) setHook(h *hook) {
	if g.hooks == nil {
		g.hooks = map[string]*hook{}
	}
	g.hooks[h.LifecycleHookName] = h
}

// launchHook returns the group's launching hook, nil when it has none.
func (g *group) launchHook() *hook {
	for _, n := range sortedKeys(g.hooks) {
		if g.hooks[n].LifecycleTransition == transitionLaunching {
			return g.hooks[n]
		}
	}
	return nil
}

func (s *Service) putLifecycleHook(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	base := hook{}
	if old := g.hooks[f.String("LifecycleHookName")]; old != nil {
		base = *old
	}
	h, err := readHook(f, g.name, base)
	if err != nil {
		return nil, err
	}
	g.setHook(h)
	return nil, nil
}

type hooksResult struct {
	LifecycleHooks []hook `xml:"LifecycleHooks>member"`
}

func (s *Service) describeLifecycleHooks(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	out := &hooksResult{}
	names := f.Strings("LifecycleHookNames")
	for _, n := range sortedKeys(g.hooks) {
		if len(names) == 0 || contains(names, n) {
			out.LifecycleHooks = append(out.LifecycleHooks, *g.hooks[n])
		}
	}
	return out, nil
}

func (s *Service) deleteLifecycleHook(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	name := f.String("LifecycleHookName")
	if g.hooks[name] == nil {
		return nil, validation("No Lifecycle Hook found with name %s for group %s", name, g.name)
	}
	delete(g.hooks, name)
	return nil, nil
}

// completeLifecycleAction ends an instance's wait with CONTINUE or
// ABANDON.
func (s *Service) completeLifecycleAction(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	id, result := f.String("InstanceId"), f.String("LifecycleActionResult")
	if result != "CONTINUE" && result != "ABANDON" {
		return nil, validation("LifecycleActionResult must be CONTINUE or ABANDON")
	}
	for _, in := range g.instances {
		if in.id == id && in.state == statePendingWait {
			s.endWait(r, g, in, result, now)
			return nil, nil
		}
	}
	return nil, validation("No active Lifecycle Action found with instance ID %s", id)
}

// wait puts a launched instance in Pending:Wait under the group's
// launching hook; it reports false when the group has none.
func (g *group) wait(in *instance, now time.Time) bool {
	h := g.launchHook()
	if h == nil {
		return false
	}
	in.state, in.since, in.hookResult = statePendingWait, now, h.DefaultResult
	in.hookDeadline = now.Add(time.Duration(h.HeartbeatTimeout) * time.Second)
	return true
}

// endWait puts a waiting instance in service (CONTINUE) or terminates it
// (ABANDON).
func (s *Service) endWait(r *region, g *group, in *instance, result string, now time.Time) {
	if result == "ABANDON" {
		s.record(g, activity{description: fmt.Sprintf("Terminating EC2 instance: %s", in.id), cause: "lifecycle action abandoned",
			status: "Successful", start: now, end: now})
		s.terminate(r, in, now)
		return
	}
	s.inService(r, g, in, now)
}
