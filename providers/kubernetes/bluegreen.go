package kubernetes

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jibe-dev/jibe/reconcile"
)

// blueGreenApplySet returns what a blue/green Apply writes: the revision's
// objects, the new workload beside the old one, and the Service still
// selecting the pods it selects now. A first deploy is applied whole.
func (s *session) blueGreenApplySet(ctx context.Context) ([]object, error) {
	svc := s.lay.objs[s.lay.service]
	live, err := s.cl.get(ctx, svc.ref())
	if err != nil || live == nil {
		return s.lay.objs, err
	}
	selector, _, _ := unstructured.NestedStringMap(live.Object, "spec", "selector")
	held := svc.u.DeepCopy()
	_ = unstructured.SetNestedStringMap(held.Object, selector, "spec", "selector")
	objs := without(s.lay.objs, s.lay.service)
	return append(objs, s.lay.restamp(object{u: held, source: svc.source})...), nil
}

// blueGreenShift switches the Service: to the new workload's pods for a
// positive weight, once that workload is healthy (a Waiting error until
// then), or back to the previous revision's pods for weight 0.
func (s *session) blueGreenShift(ctx context.Context, weight int64) error {
	if weight == 0 {
		prev, err := s.previous()
		if err != nil || prev == nil {
			return err
		}
		err = s.applyOne(ctx, prev.objs[prev.service])
		return err
	}
	workload := s.lay.objs[s.lay.workload]
	h, err := s.health(ctx, []object{workload})
	switch {
	case err != nil:
		return err
	case h.State == reconcile.HealthFailed:
		return reconcile.Stalled(fmt.Errorf("not switching traffic to a failed workload: %s", h.Reason))
	case h.State == reconcile.HealthProgressing:
		return reconcile.Waiting(requeueAfter, "waiting for %s to be healthy before switching traffic: %s", workload.ref(), h.Reason)
	}
	err = s.applyOne(ctx, s.lay.objs[s.lay.service])
	return err
}

// blueGreenPromote makes the new workload the active one: the revision's
// objects are applied (the Service selecting the new pods) and the
// inventory's other objects pruned, except the previous workloads, which
// are retained for Cleanup.
func (s *session) blueGreenPromote(ctx context.Context) error {
	if err := s.apply(ctx, s.lay.objs); err != nil {
		return err
	}
	inv, err := s.inventory(ctx, false)
	if err != nil {
		return err
	}
	var retain []objectRef
	for _, r := range minus(inv.Objects, refsOf(s.lay.objs)) {
		if s.isWorkloadVersion(r) {
			retain = append(retain, r)
		}
	}
	return s.prune(ctx, s.lay.objs, retain, s.d.Revision)
}

// isWorkloadVersion reports whether r is a version of the blue/green
// workload: the Deployment of the same name in Git, with or without a
// version suffix.
func (s *session) isWorkloadVersion(r objectRef) bool {
	w := s.lay.objs[s.lay.workload].ref()
	base := s.lay.base
	return r.groupKind() == w.groupKind() && r.Namespace == w.Namespace && (r.Name == base || strings.HasPrefix(r.Name, base+"-"))
}
