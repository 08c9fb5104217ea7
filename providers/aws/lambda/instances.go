package lambda

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/reconcile"
)

// instances counts the versions of r (as read for Health: no further
// call): each version the alias routes to, and the new one, counts as one
// instance, healthy when Active, with its share of the alias's traffic in
// percent. A function has no instances of its own to count.
func (r *rollout) instances() *reconcile.Instances {
	weights := aliasWeights(r.alias)
	in := &reconcile.Instances{}
	add := func(v *types.FunctionConfiguration, isNew bool) {
		n := aws.ToString(v.Version)
		vi := reconcile.VersionInstances{Version: n, New: isNew, Desired: 1, Running: 1}
		if versionHealth(v).State == reconcile.HealthHealthy {
			vi.Healthy = 1
		} else {
			vi.Unhealthy = 1
		}
		if w, ok := weights[n]; ok {
			vi.Weight = &w
		} else if r.alias != nil {
			zero := 0.0
			vi.Weight = &zero
		}
		in.Desired, in.Running, in.Healthy, in.Unhealthy = in.Desired+1, in.Running+1, in.Healthy+vi.Healthy, in.Unhealthy+vi.Unhealthy
		in.Versions = append(in.Versions, vi)
	}
	if r.next != nil {
		add(r.next, true)
	}
	for i := range r.vs {
		v := &r.vs[i]
		if n := aws.ToString(v.Version); n != r.nextVersion() && weights[n] > 0 {
			add(v, false)
		}
	}
	if len(in.Versions) == 0 {
		return nil
	}
	return in
}

// aliasWeights returns each version's share of alias's traffic in
// percent.
func aliasWeights(alias *types.AliasConfiguration) map[string]float64 {
	out := map[string]float64{}
	if alias == nil {
		return out
	}
	rest := 1.0
	if rc := alias.RoutingConfig; rc != nil {
		for v, w := range rc.AdditionalVersionWeights {
			out[v] = w * 100
			rest -= w
		}
	}
	out[aws.ToString(alias.FunctionVersion)] += rest * 100
	return out
}
