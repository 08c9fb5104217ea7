package agent

import (
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// instancesOf returns the instances last observed of production's
// target web, nil when none were.
func instancesOf(a *Agent) *reconcile.Instances {
	for _, app := range a.Applications() {
		for _, e := range app.Environments {
			for _, t := range e.Targets {
				if e.Name == "production" && t.Name == "web" {
					return t.Instances
				}
			}
		}
	}
	return nil
}

// During a Lambda canary, the API shows both versions with their share of
// the alias's traffic, as Lambda reported them to the health checks of
// the rollout.
func TestAPILambdaCanaryShowsVersionWeights(t *testing.T) {
	x := newLambdaE2E(t)
	v1 := x.push(x.files("orders/1.0.0.zip"))
	x.settle("v1 rolled out", x.ended(v1))
	v2 := x.push(x.files("orders/1.1.0.zip"))
	var seen *reconcile.Instances
	x.settle("v2 rolled out", func() bool {
		if in := instancesOf(x.agent); in != nil && len(in.Versions) == 2 && in.Versions[0].Weight != nil && *in.Versions[0].Weight > 0 {
			seen = in
		}
		return x.ended(v2)()
	})
	if seen == nil {
		t.Fatalf("the API never showed two versions with weights; last: %+v", instancesOf(x.agent))
	}
	n, o := seen.Versions[0], seen.Versions[1]
	if !n.New || n.Version != "2" || o.Version != "1" || o.Weight == nil || *n.Weight+*o.Weight != 100 || seen.Healthy != 2 {
		t.Errorf("versions = %+v / %+v", n, o)
	}
}

// During an ECS canary, the API shows the canary's tasks and the stable
// service's, each a version.
func TestAPIECSCanaryShowsBothServices(t *testing.T) {
	x := newECSE2E(t)
	v1 := x.push(x.files("registry.example.com/shop/web:1.0.0"))
	x.settle("v1 rolled out", x.ended(v1))
	if in := instancesOf(x.agent); in == nil || in.Desired == 0 || in.Running == 0 {
		t.Errorf("after v1, instances = %+v", in)
	}
	v2 := x.push(x.files("registry.example.com/shop/web:1.1.0"))
	var seen *reconcile.Instances
	x.settle("v2 rolled out", func() bool {
		if in := instancesOf(x.agent); in != nil && len(in.Versions) == 2 {
			seen = in
		}
		return x.ended(v2)()
	})
	if seen == nil || !seen.Versions[0].New || seen.Versions[1].New || seen.Versions[1].Running == 0 {
		t.Errorf("the API never showed the canary beside the stable service: %+v", seen)
	}
}
