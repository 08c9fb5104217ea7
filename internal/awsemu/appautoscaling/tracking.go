package appautoscaling

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Target tracking timing.
const (
	trackingPeriod          = time.Minute // metric window and evaluation interval
	defaultScaleInCooldown  = 300 * time.Second
	defaultScaleOutCooldown = 300 * time.Second
)

// Metrics reads CloudWatch statistics for target tracking.
type Metrics interface {
	// Statistic returns the statistic of a metric over [from, to), and
	// false when there is no data.
	Statistic(scope protocol.Scope, namespace, name string, dims map[string]string, stat string, from, to time.Time) (float64, bool)
}

// tracking is the evaluation state of one target tracking policy.
type tracking struct {
	nextEval        time.Time
	lastOut, lastIn time.Time
}

// Step runs the scheduled actions that are due and evaluates target
// tracking policies whose period elapsed.
func (s *Service) Step(now time.Time) {
	for scope, r := range s.regions {
		s.runScheduled(scope, r, now)
		for _, pk := range sortedKeys(r.policies) {
			p := r.policies[pk]
			if p.PolicyType != types.PolicyTypeTargetTrackingScaling {
				continue
			}
			tr := r.trackingOf(pk, now)
			if now.Before(tr.nextEval) {
				continue
			}
			tr.nextEval = now.Add(trackingPeriod)
			s.track(scope, r, p, tr, now)
		}
	}
}

func (r *region) trackingOf(pk string, now time.Time) *tracking {
	tr, ok := r.tracking[pk]
	if !ok {
		tr = &tracking{nextEval: now.Add(trackingPeriod)}
		r.tracking[pk] = tr
	}
	return tr
}

// track scales the policy's target so the metric approaches the target
// value: desired = ceil(current × metric / target), within the target's
// bounds and the policy's cooldowns.
func (s *Service) track(scope protocol.Scope, r *region, p *types.ScalingPolicy, tr *tracking, now time.Time) {
	cfg := p.TargetTrackingScalingPolicyConfiguration
	t, ok := r.targets[key(p.ServiceNamespace, aws.ToString(p.ResourceId), p.ScalableDimension)]
	sc, scalable := s.cfg.Scalables[p.ServiceNamespace]
	if !ok || !scalable || s.cfg.Metrics == nil || aws.ToFloat64(cfg.TargetValue) <= 0 {
		return
	}
	current, err := sc.Capacity(scope, aws.ToString(p.ResourceId))
	if err != nil || current == 0 {
		return
	}
	value, ok := s.metricValue(scope, cfg, current, now)
	if !ok {
		return
	}
	want := int32(math.Ceil(float64(current) * value / aws.ToFloat64(cfg.TargetValue)))
	want = min(max(want, aws.ToInt32(t.MinCapacity)), aws.ToInt32(t.MaxCapacity))
	switch {
	case want > current && now.Sub(tr.lastOut) >= cooldown(cfg.ScaleOutCooldown, defaultScaleOutCooldown):
		tr.lastOut = now
	case want < current && !aws.ToBool(cfg.DisableScaleIn) && now.Sub(tr.lastIn) >= cooldown(cfg.ScaleInCooldown, defaultScaleInCooldown):
		tr.lastIn = now
	default:
		return
	}
	if err := sc.SetCapacity(scope, aws.ToString(p.ResourceId), want, now); err != nil {
		return
	}
	s.recordActivity(r, p, current, want, value, now)
}

func cooldown(v *int32, def time.Duration) time.Duration {
	if v == nil {
		return def
	}
	return time.Duration(*v) * time.Second
}

// metricValue reads the tracked metric over the last period:
// ALBRequestCountPerTarget (request count / capacity) or a customized
// metric; CPU and memory utilization are not emulated.
func (s *Service) metricValue(scope protocol.Scope, cfg *types.TargetTrackingScalingPolicyConfiguration, current int32, now time.Time) (float64, bool) {
	from := now.Add(-trackingPeriod)
	if pm := cfg.PredefinedMetricSpecification; pm != nil {
		if pm.PredefinedMetricType != types.MetricTypeALBRequestCountPerTarget {
			return 0, false
		}
		dims, ok := albDimensions(aws.ToString(pm.ResourceLabel))
		if !ok {
			return 0, false
		}
		sum, ok := s.cfg.Metrics.Statistic(scope, "AWS/ApplicationELB", "RequestCount", dims, "Sum", from, now)
		return sum / float64(current), ok
	}
	cm := cfg.CustomizedMetricSpecification
	if cm == nil || cm.MetricName == nil {
		return 0, false
	}
	dims := map[string]string{}
	for _, d := range cm.Dimensions {
		dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return s.cfg.Metrics.Statistic(scope, aws.ToString(cm.Namespace), *cm.MetricName, dims, string(cm.Statistic), from, now)
}

// albDimensions splits a ResourceLabel
// "app/<lb>/<id>/targetgroup/<tg>/<id>" into metric dimensions.
func albDimensions(label string) (map[string]string, bool) {
	lb, tg, ok := strings.Cut(label, "/targetgroup/")
	if !ok {
		return nil, false
	}
	return map[string]string{"LoadBalancer": lb, "TargetGroup": "targetgroup/" + tg}, true
}

func (s *Service) recordActivity(r *region, p *types.ScalingPolicy, from, to int32, value float64, now time.Time) {
	s.ids++
	r.activities = append(r.activities, types.ScalingActivity{
		ActivityId: aws.String(fmt.Sprintf("%08x-0000-4000-8000-%012x", s.ids, s.ids)), ServiceNamespace: p.ServiceNamespace,
		ResourceId: p.ResourceId, ScalableDimension: p.ScalableDimension, StatusCode: types.ScalingActivityStatusCodeSuccessful,
		Description: aws.String(fmt.Sprintf("Setting desired count to %d.", to)), StartTime: aws.Time(now), EndTime: aws.Time(now),
		Cause: aws.String(fmt.Sprintf("monitor alarm TargetTracking-%s triggered policy %s (metric %.2f, target %.2f, capacity %d)",
			aws.ToString(p.ResourceId), aws.ToString(p.PolicyName), value, aws.ToFloat64(p.TargetTrackingScalingPolicyConfiguration.TargetValue), from)),
	})
}

func (s *Service) describeScalingActivities(r *region, c *protocol.Call) (any, error) {
	var in aas.DescribeScalingActivitiesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.ScalingActivity
	for _, a := range r.activities {
		if a.ServiceNamespace == in.ServiceNamespace && (in.ResourceId == nil || aws.ToString(a.ResourceId) == *in.ResourceId) {
			found = append(found, a)
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].StartTime.After(*found[j].StartTime) })
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 50)
	if err != nil {
		return nil, validation("invalid NextToken")
	}
	return &aas.DescribeScalingActivitiesOutput{ScalingActivities: found[start:end], NextToken: optString(next)}, nil
}
