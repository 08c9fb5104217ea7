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

// blueGreenReturn switches the Service back to the pods of the workload
// version that ran before (versionBefore) once it is healthy, deletes the
// revision's workload, and records the version that ran before among the
// inventory's objects again.
func (s *session) blueGreenReturn(ctx context.Context) error {
	inv, err := s.inventory(ctx, false)
	if err != nil {
		return err
	}
	created := s.lay.objs[s.lay.workload].ref()
	old, err := s.versionBefore(ctx, inv, created)
	if err != nil {
		return err
	}
	if err := s.awaitBefore(ctx, old); err != nil {
		return err
	}
	version, _, _ := unstructured.NestedString(old.Object, "spec", "template", "metadata", "labels", LabelVersion)
	if version == "" {
		return reconcile.Stalled(fmt.Errorf("workload %s, which ran before, has no %s label to select its pods by; point Service %s at them by hand, or push a fix",
			refOf(old), LabelVersion, s.lay.objs[s.lay.service].u.GetName()))
	}
	svc := s.lay.objs[s.lay.service]
	u := svc.u.DeepCopy()
	addLabels(u, map[string]string{LabelVersion: version}, "spec", "selector")
	if err := s.applyOne(ctx, s.lay.restamp(object{u: u, source: svc.source})[0]); err != nil {
		return err
	}
	if err := s.cl.deleteOne(ctx, created, s.w); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "traffic returned; deleted the new version", "step", "rollback", "object", created.String(), "to", refOf(old).String())
	inv.Objects = union(minus(inv.Objects, []objectRef{created}), []objectRef{refOf(old)})
	inv.Retained = minus(inv.Retained, []objectRef{refOf(old)})
	return s.writeInventory(ctx, inv)
}

// versionBefore returns the workload version that ran before the
// revision's: the one other version of the workload that the inventory
// records (applied by an earlier rollout, or retained by this one's
// promotion) and that still exists.
func (s *session) versionBefore(ctx context.Context, inv inventory, created objectRef) (*unstructured.Unstructured, error) {
	var found []*unstructured.Unstructured
	var names []string
	for _, r := range union(inv.Objects, inv.Retained) {
		if !s.isWorkloadVersion(r) || r.id() == created.id() {
			continue
		}
		u, err := s.cl.get(ctx, r)
		if err != nil {
			return nil, err
		}
		if u != nil {
			found, names = append(found, u), append(names, r.Name)
		}
	}
	svc := s.lay.objs[s.lay.service].u.GetName()
	switch len(found) {
	case 0:
		return nil, reconcile.Stalled(fmt.Errorf("no earlier version of workload %s is recorded in Jibe's inventory (it may predate Jibe), so there is no version to return traffic to; point Service %s at the right pods by hand, or push a fix",
			s.lay.base, svc))
	case 1:
		return found[0], nil
	}
	return nil, reconcile.Stalled(fmt.Errorf("several earlier versions of workload %s run (%s) and no earlier revision is known to choose between them; point Service %s at the right pods by hand, or push a fix",
		s.lay.base, strings.Join(names, ", "), svc))
}

// awaitBefore returns Waiting until the workload that ran before is
// healthy, and a stalled error if it fails.
func (s *session) awaitBefore(ctx context.Context, old *unstructured.Unstructured) error {
	h, err := s.health(ctx, []object{{u: old}})
	switch {
	case err != nil:
		return err
	case h.State == reconcile.HealthFailed:
		return reconcile.Stalled(fmt.Errorf("workload %s, which ran before, is failing: %s", refOf(old), h.Reason))
	case h.State == reconcile.HealthProgressing:
		return reconcile.Waiting(requeueAfter, "waiting for workload %s, which ran before, to be healthy: %s", refOf(old), h.Reason)
	}
	return nil
}
