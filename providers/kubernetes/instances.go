package kubernetes

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/jibe-dev/jibe/reconcile"
)

// workloadInstances counts the pods of a live workload from its status
// (what the watch-fed cache holds: no request), nil for other kinds. A
// Deployment part-way through a rolling update is split into its updated
// pods (the new version) and the others.
func workloadInstances(ref objectRef, u *unstructured.Unstructured) *reconcile.Instances {
	var desired, running, healthy, updated int64
	switch ref.groupKind() {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		desired, running = replicas(u), integer(u, "status", "replicas")
		healthy, updated = integer(u, "status", "availableReplicas"), integer(u, "status", "updatedReplicas")
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		desired, running = replicas(u), integer(u, "status", "replicas")
		healthy, updated = integer(u, "status", "readyReplicas"), integer(u, "status", "updatedReplicas")
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}:
		desired, running = integer(u, "status", "desiredNumberScheduled"), integer(u, "status", "currentNumberScheduled")
		healthy, updated = integer(u, "status", "numberAvailable"), integer(u, "status", "updatedNumberScheduled")
	default:
		return nil
	}
	in := &reconcile.Instances{Desired: int(desired), Running: int(running), Healthy: int(min(healthy, running)),
		Unhealthy: int(max(running-healthy, 0))}
	revision := u.GetAnnotations()[AnnotationRevision]
	if old := running - updated; old > 0 && updated > 0 {
		// Which of the available pods are updated is not in the status:
		// the updated ones count as healthy first.
		newHealthy := min(healthy, updated)
		in.Versions = []reconcile.VersionInstances{
			{Version: u.GetName(), Revision: revision, New: true, Desired: int(desired), Running: int(updated),
				Healthy: int(newHealthy), Unhealthy: int(updated - newHealthy)},
			{Version: u.GetName() + " (previous pods)", Running: int(old), Healthy: int(max(healthy-newHealthy, 0)),
				Unhealthy: int(old - max(healthy-newHealthy, 0))},
		}
	}
	return in
}

// addInstances adds the counts of in to sum (nil for none yet) and
// returns it.
func addInstances(sum, in *reconcile.Instances) *reconcile.Instances {
	if in == nil {
		return sum
	}
	if sum == nil {
		c := *in
		return &c
	}
	sum.Desired += in.Desired
	sum.Running += in.Running
	sum.Healthy += in.Healthy
	sum.Unhealthy += in.Unhealthy
	sum.Versions = append(sum.Versions, in.Versions...)
	return sum
}

// withStable adds the stable workload's pods to h, the health of a
// canary's objects: the canary's counts become the new version's and the
// stable workload's the other version's.
func (s *session) withStable(ctx context.Context, h reconcile.Health) (reconcile.Health, error) {
	stable := s.lay.objs[s.lay.workload]
	live, err := s.cl.get(ctx, stable.ref())
	if err != nil || live == nil || h.Instances == nil {
		return h, err
	}
	old := workloadInstances(stable.ref(), live)
	if old == nil {
		return h, nil
	}
	canary := *h.Instances
	in := &reconcile.Instances{Desired: canary.Desired + old.Desired, Running: canary.Running + old.Running,
		Healthy: canary.Healthy + old.Healthy, Unhealthy: canary.Unhealthy + old.Unhealthy}
	in.Versions = []reconcile.VersionInstances{
		{Version: canaryName(live.GetName()), Revision: s.d.Revision, New: true, Desired: canary.Desired,
			Running: canary.Running, Healthy: canary.Healthy, Unhealthy: canary.Unhealthy},
		{Version: live.GetName(), Revision: live.GetAnnotations()[AnnotationRevision], Desired: old.Desired,
			Running: old.Running, Healthy: old.Healthy, Unhealthy: old.Unhealthy},
	}
	h.Instances = in
	return h, nil
}
