package spec

import (
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// Limits of Auto Scaling lifecycle hooks' heartbeat timeout.
const (
	minHookHeartbeat = 30 * time.Second
	maxHookHeartbeat = 2 * time.Hour
)

// groupExtras checks what an Auto Scaling group declares besides its
// sizes: volumes, mixed instances, warm pool, scheduled actions and
// lifecycle hooks.
func (v *validator) groupExtras(field string, g *AutoScalingGroupTarget) {
	v.blockDevices(field+".launchTemplate.blockDeviceMappings", g.LaunchTemplate.BlockDeviceMappings)
	seen := map[string]bool{}
	for i, a := range g.ScheduledActions {
		f := strictyaml.JoinIndex(field+".scheduledActions", i)
		v.uniqueName(f+".name", a.Name, "scheduled action", seen)
		v.groupScheduledAction(f, a)
	}
	v.mixedInstances(field+".mixedInstancesPolicy", g.MixedInstancesPolicy)
	v.warmPool(field+".warmPool", g)
	hooks := map[string]bool{}
	for i, h := range g.LifecycleHooks {
		f := strictyaml.JoinIndex(field+".lifecycleHooks", i)
		v.uniqueName(f+".name", h.Name, "lifecycle hook", hooks)
		if hb := h.HeartbeatTimeout; hb != nil && (hb.Duration < minHookHeartbeat || hb.Duration > maxHookHeartbeat) {
			v.errorf(f+".heartbeatTimeout", "heartbeatTimeout %s is outside 30s to 2h", hb.Duration)
		}
		if (h.NotificationTargetARN == "") != (h.RoleARN == "") {
			v.errorf(f+".roleArn", "set roleArn and notificationTargetArn together: Auto Scaling publishes to the target with the role")
		}
	}
}

// uniqueName reports a name used twice among one kind of item.
func (v *validator) uniqueName(field, name, noun string, seen map[string]bool) {
	if seen[name] {
		v.errorf(field, "%s name %q is used twice; names must be unique within the group", noun, name)
	}
	seen[name] = true
}

func (v *validator) blockDevices(field string, devices []BlockDevice) {
	seen := map[string]bool{}
	for i, b := range devices {
		f := strictyaml.JoinIndex(field, i)
		if seen[b.DeviceName] {
			v.errorf(f+".deviceName", "device %s is mapped twice", b.DeviceName)
		}
		seen[b.DeviceName] = true
		if e := b.EBS; e != nil && e.Throughput > 0 && e.VolumeType != "gp3" {
			v.errorf(f+".ebs.throughput", "throughput applies to gp3 volumes only; set volumeType: gp3 or remove it")
		}
	}
}

// groupScheduledAction checks one action: a schedule (recurrence or a
// start time), times in RFC 3339, a known time zone and a size to set.
func (v *validator) groupScheduledAction(field string, a GroupScheduledAction) {
	if a.Recurrence == "" && a.StartTime == "" {
		v.errorf(field, "set recurrence (cron), startTime (once) or both")
	}
	if a.Recurrence != "" && len(strings.Fields(a.Recurrence)) != 5 {
		v.errorf(field+".recurrence", "recurrence %q is not a cron expression of five fields (minute hour day-of-month month day-of-week)", a.Recurrence)
	}
	for name, t := range map[string]string{"startTime": a.StartTime, "endTime": a.EndTime} {
		if _, err := time.Parse(time.RFC3339, t); t != "" && err != nil {
			v.errorf(field+"."+name, "%s %q is not an RFC 3339 time such as 2026-12-24T08:00:00Z", name, t)
		}
	}
	if _, err := time.LoadLocation(a.TimeZone); a.TimeZone != "" && err != nil {
		v.errorf(field+".timeZone", "unknown time zone %q: use an IANA name such as Europe/Paris", a.TimeZone)
	}
	if a.MinSize == nil && a.MaxSize == nil && a.DesiredCapacity == nil {
		v.errorf(field, "set at least one of minSize, maxSize and desiredCapacity")
	}
}

// mixedInstances checks a mixed instances policy as AWS does: each type
// once, weights on every override or none, spot pools with lowest-price
// only.
func (v *validator) mixedInstances(field string, m *MixedInstancesPolicy) {
	if m == nil {
		return
	}
	seen, weighted := map[string]bool{}, 0
	for i, o := range m.Overrides {
		f := strictyaml.JoinIndex(field+".overrides", i)
		if seen[o.InstanceType] {
			v.errorf(f+".instanceType", "instance type %s is overridden twice; list each type once", o.InstanceType)
		}
		seen[o.InstanceType] = true
		if o.WeightedCapacity > 0 {
			weighted++
		}
	}
	if weighted > 0 && weighted < len(m.Overrides) {
		v.errorf(field+".overrides", "set weightedCapacity on every override or on none: %d of %d have one", weighted, len(m.Overrides))
	}
	if d := m.InstancesDistribution; d != nil && d.SpotInstancePools > 0 && d.SpotAllocationStrategy != "" && d.SpotAllocationStrategy != "lowest-price" {
		v.errorf(field+".instancesDistribution.spotInstancePools", "spotInstancePools applies to the lowest-price spot allocation strategy only; remove it or use lowest-price")
	}
}

// warmPool checks a warm pool against the group's sizes: its minimum
// within maxGroupPreparedCapacity, which is -1 (the group's maxSize) or
// at least the group's minSize.
func (v *validator) warmPool(field string, g *AutoScalingGroupTarget) {
	w := g.WarmPool
	if w == nil || w.MaxGroupPreparedCapacity == nil {
		return
	}
	switch m := *w.MaxGroupPreparedCapacity; {
	case m == -1:
	case m < g.MinSize:
		v.errorf(field+".maxGroupPreparedCapacity", "maxGroupPreparedCapacity %d is below the group's minSize %d; raise it or leave it out (the group's maxSize)", m, g.MinSize)
	case w.MinSize > m:
		v.errorf(field+".minSize", "the warm pool's minSize %d is above its maxGroupPreparedCapacity %d", w.MinSize, m)
	}
}

// maxSchedulingBuffer is the longest SchedulingBufferTime AWS accepts.
const maxSchedulingBuffer = time.Hour

// predictive checks a predictive scaling policy as AWS validates its
// metric specification: exactly one of a predefined pair, a predefined
// load and scaling metric, or customized load and scaling metrics (a
// customized capacity metric only with them); a resource label for the
// ALB metrics; a buffer within 1h; maxCapacityBuffer with, and only
// with, IncreaseMaxCapacity.
func (v *validator) predictive(field string, p *PredictiveScaling) {
	pair := p.PredefinedMetricPair != ""
	predefined := p.PredefinedLoadMetric != "" || p.PredefinedScalingMetric != ""
	customized := p.CustomizedLoadMetric != nil || p.CustomizedScalingMetric != nil || p.CustomizedCapacityMetric != nil
	switch {
	case len(oneOf(pair, predefined, customized)) != 1:
		v.errorf(field, "set exactly one of predefinedMetricPair, predefinedLoadMetric with predefinedScalingMetric, and customizedLoadMetric with customizedScalingMetric")
	case predefined && (p.PredefinedLoadMetric == "" || p.PredefinedScalingMetric == ""):
		v.errorf(field, "set predefinedLoadMetric and predefinedScalingMetric together")
	case customized && (p.CustomizedLoadMetric == nil || p.CustomizedScalingMetric == nil):
		v.errorf(field, "set customizedLoadMetric and customizedScalingMetric together (customizedCapacityMetric is optional)")
	}
	alb := p.PredefinedMetricPair == "ALBRequestCount" || p.PredefinedLoadMetric == "ALBTargetGroupRequestCount" || p.PredefinedScalingMetric == "ALBRequestCountPerTarget"
	if alb && p.ResourceLabel == "" {
		v.errorf(field+".resourceLabel", "the ALB request metrics need resourceLabel (app/<lb>/<id>/targetgroup/<tg>/<id>)")
	}
	if b := p.SchedulingBufferTime; b != nil && (b.Duration < 0 || b.Duration > maxSchedulingBuffer) {
		v.errorf(field+".schedulingBufferTime", "schedulingBufferTime %s is outside 0 to 1h", b.Duration)
	}
	switch increase := p.MaxCapacityBreachBehavior == "IncreaseMaxCapacity"; {
	case p.MaxCapacityBuffer != nil && !increase:
		v.errorf(field+".maxCapacityBuffer", "maxCapacityBuffer applies with maxCapacityBreachBehavior: IncreaseMaxCapacity only; set it or remove the buffer")
	case p.MaxCapacityBuffer == nil && increase:
		v.errorf(field+".maxCapacityBuffer", "maxCapacityBreachBehavior IncreaseMaxCapacity needs maxCapacityBuffer (0 to 100 percent above the forecast)")
	}
}
