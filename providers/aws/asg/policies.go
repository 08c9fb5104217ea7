package asg

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/spec"
)

// policyData is a scaling policy in the shape diffs compare.
type policyData struct {
	Type             string     `json:"type"`
	TargetValue      float64    `json:"targetValue,omitempty"`
	PredefinedMetric string     `json:"predefinedMetric,omitempty"`
	ResourceLabel    string     `json:"resourceLabel,omitempty"`
	DisableScaleIn   bool       `json:"disableScaleIn,omitempty"`
	AdjustmentType   string     `json:"adjustmentType,omitempty"`
	Steps            []stepData `json:"steps,omitempty"`
	// Predictive is a predictive scaling policy's configuration.
	Predictive *predictiveData `json:"predictiveScaling,omitempty"`
	// Disabled is a policy that does not act (a retired red/black group's
	// predictive policies).
	Disabled bool `json:"disabled,omitempty"`
}

type stepData struct {
	Lower      *float64 `json:"lowerBound,omitempty"`
	Upper      *float64 `json:"upperBound,omitempty"`
	Adjustment int32    `json:"adjustment"`
}

// desiredPolicies returns the spec's policies by name; nil when it has
// none (live policies are then left alone).
func desiredPolicies(ps []spec.ScalingPolicy) map[string]policyData {
	if len(ps) == 0 {
		return nil
	}
	out := map[string]policyData{}
	for _, sp := range ps {
		var pd policyData
		if tt := sp.TargetTracking; tt != nil {
			pd = policyData{Type: "TargetTrackingScaling", TargetValue: tt.TargetValue, PredefinedMetric: tt.PredefinedMetric,
				ResourceLabel: tt.ResourceLabel, DisableScaleIn: tt.DisableScaleIn}
		}
		if ss := sp.StepScaling; ss != nil {
			pd = policyData{Type: "StepScaling", AdjustmentType: ss.AdjustmentType}
			for _, st := range ss.Steps {
				pd.Steps = append(pd.Steps, stepData{Lower: st.LowerBound, Upper: st.UpperBound, Adjustment: st.Adjustment})
			}
		}
		if ps := sp.PredictiveScaling; ps != nil {
			pd = policyData{Type: "PredictiveScaling", Predictive: desiredPredictive(ps)}
		}
		out[sp.Name] = pd
	}
	return out
}

// livePolicies returns live policies by name.
func livePolicies(ps []astypes.ScalingPolicy) map[string]policyData {
	out := map[string]policyData{}
	for _, lp := range ps {
		pd := policyData{Type: aws.ToString(lp.PolicyType), AdjustmentType: aws.ToString(lp.AdjustmentType), Predictive: livePredictive(lp.PredictiveScalingConfiguration),
			Disabled: lp.Enabled != nil && !*lp.Enabled}
		if tt := lp.TargetTrackingConfiguration; tt != nil {
			pd.TargetValue, pd.DisableScaleIn = aws.ToFloat64(tt.TargetValue), aws.ToBool(tt.DisableScaleIn)
			if m := tt.PredefinedMetricSpecification; m != nil {
				pd.PredefinedMetric, pd.ResourceLabel = string(m.PredefinedMetricType), aws.ToString(m.ResourceLabel)
			}
		}
		for _, st := range lp.StepAdjustments {
			pd.Steps = append(pd.Steps, stepData{Lower: st.MetricIntervalLowerBound, Upper: st.MetricIntervalUpperBound, Adjustment: aws.ToInt32(st.ScalingAdjustment)})
		}
		out[aws.ToString(lp.PolicyName)] = pd
	}
	return out
}

// policies returns the live policies of a group.
func (p *Platform) policies(ctx context.Context, group string) ([]astypes.ScalingPolicy, error) {
	var out []astypes.ScalingPolicy
	pages := autoscaling.NewDescribePoliciesPaginator(p.c.AutoScaling, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String(group)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(fmt.Errorf("describe scaling policies of %s: %w", group, err))
		}
		out = append(out, page.ScalingPolicies...)
	}
	return out, nil
}

// syncPolicies puts want's policies on group where they differ from its
// live ones and, when prune, deletes live policies want does not name.
func (p *Platform) syncPolicies(ctx context.Context, group string, want map[string]policyData, prune bool) error {
	if want == nil && !prune {
		return nil
	}
	live, err := p.policies(ctx, group)
	if err != nil {
		return err
	}
	have := livePolicies(live)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if h, ok := have[name]; ok && equalPolicy(h, want[name]) {
			continue
		}
		if err := p.putPolicy(ctx, group, name, want[name]); err != nil {
			return err
		}
	}
	if !prune {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[name]; !ok {
			if _, err := p.c.AutoScaling.DeletePolicy(ctx, &autoscaling.DeletePolicyInput{AutoScalingGroupName: aws.String(group), PolicyName: aws.String(name)}); err != nil {
				return classify(fmt.Errorf("delete scaling policy %s of %s: %w", name, group, err))
			}
		}
	}
	return nil
}

func equalPolicy(a, b policyData) bool { return reflect.DeepEqual(a, b) }

// putPolicy creates or replaces one policy.
func (p *Platform) putPolicy(ctx context.Context, group, name string, pd policyData) error {
	in := &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String(group), PolicyName: aws.String(name), PolicyType: aws.String(pd.Type)}
	putEnabled(in, pd)
	switch pd.Type {
	case "TargetTrackingScaling":
		tt := &astypes.TargetTrackingConfiguration{TargetValue: aws.Float64(pd.TargetValue), DisableScaleIn: aws.Bool(pd.DisableScaleIn)}
		if pd.PredefinedMetric != "" {
			tt.PredefinedMetricSpecification = &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricType(pd.PredefinedMetric)}
			if pd.ResourceLabel != "" {
				tt.PredefinedMetricSpecification.ResourceLabel = aws.String(pd.ResourceLabel)
			}
		}
		in.TargetTrackingConfiguration = tt
	case "PredictiveScaling":
		in.PredictiveScalingConfiguration = pd.Predictive.configuration()
	case "StepScaling":
		in.AdjustmentType = aws.String(pd.AdjustmentType)
		for _, s := range pd.Steps {
			in.StepAdjustments = append(in.StepAdjustments, astypes.StepAdjustment{MetricIntervalLowerBound: s.Lower, MetricIntervalUpperBound: s.Upper,
				ScalingAdjustment: aws.Int32(s.Adjustment)})
		}
	}
	if _, err := p.c.AutoScaling.PutScalingPolicy(ctx, in); err != nil {
		return classify(fmt.Errorf("put scaling policy %s on %s: %w", name, group, err))
	}
	return nil
}
