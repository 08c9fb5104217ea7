package kubernetes

import "github.com/jibe-dev/jibe/spec"

// Capabilities is what the Kubernetes platform deploys: manifests applied
// in place (rolling), or a new workload beside the stable one with traffic
// shifted by the Service's selector (blueGreen) or by HTTPRoute weights or
// replica ratio (canary). What a strategy needs of the manifests (a
// Deployment to clone, a Service) is checked with the files (spec's
// filechecks). It needs no client: validation and planning ask it.
var Capabilities = spec.Capabilities{
	Platform:      spec.PlatformKubernetes,
	Noun:          "a Kubernetes target",
	ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
}
