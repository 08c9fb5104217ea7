package kubernetes

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/jibe-dev/jibe/reconcile"
)

// shiftTimeout bounds how long ShiftTraffic waits for replicas to be
// ready before returning a Waiting error.
const shiftTimeout = 2 * time.Minute

// canaryName names the canary copy of a workload or Service.
func canaryName(name string) string { return name + "-canary" }

// canaryRef is the canary copy of the workload.
func (s *session) canaryRef() objectRef {
	r := s.lay.objs[s.lay.workload].ref()
	r.Name = canaryName(r.Name)
	return r
}

// canaryLive reports whether a canary rollout is under way.
func (s *session) canaryLive(ctx context.Context) (bool, error) {
	u, err := s.cl.get(ctx, s.canaryRef())
	return u != nil, err
}

// canaryApplySet returns what a canary's Apply writes: the revision's
// objects, except that the workload stays at the previous revision, with
// a canary copy of the new one beside it receiving no traffic: with a
// route, the copy runs the workload's replicas behind a canary Service
// that the route weights at 0; without one, it runs no replica. A first
// deploy, with no stable version running, is applied whole.
func (s *session) canaryApplySet(ctx context.Context) ([]object, error) {
	prev, err := s.previous()
	if err != nil || prev == nil {
		return s.lay.objs, err
	}
	stable, err := s.cl.get(ctx, s.lay.objs[s.lay.workload].ref())
	if err != nil || stable == nil {
		return s.lay.objs, err
	}
	objs := without(s.lay.objs, s.lay.workload, s.lay.route)
	objs = append(objs, prev.objs[prev.workload])
	if s.lay.route < 0 {
		return append(objs, s.canaryWorkload(0)), nil
	}
	route, err := s.routeAt(0)
	full := s.canaryWorkload(replicas(s.lay.objs[s.lay.workload].u))
	return append(objs, full, s.canaryService(), route), err
}

// canaryHealthSet returns the objects whose health is the new version's:
// the canary copy instead of the stable workload while a canary runs.
func (s *session) canaryHealthSet(ctx context.Context) ([]object, error) {
	live, err := s.canaryLive(ctx)
	if err != nil || !live {
		return s.lay.objs, err
	}
	return append(without(s.lay.objs, s.lay.workload, s.lay.route), s.canaryWorkload(0)), nil
}

// canaryWorkload returns the canary copy of the new workload: named
// <name>-canary, its pods and selector labelled jibe.dev/track=canary.
func (s *session) canaryWorkload(replicas int64) object {
	u := s.lay.objs[s.lay.workload].u.DeepCopy()
	u.SetName(canaryName(u.GetName()))
	canary := map[string]string{LabelTrack: string(trackCanary)}
	addLabels(u, canary, "metadata", "labels")
	addLabels(u, canary, "spec", "template", "metadata", "labels")
	addLabels(u, canary, "spec", "selector", "matchLabels")
	_ = unstructured.SetNestedField(u.Object, replicas, "spec", "replicas")
	return s.lay.restamp(object{u: u})[0]
}

// canaryService returns a copy of the stable Service, named
// <service>-canary, selecting the canary's pods. Fields the API server
// allocates (cluster IPs, node ports) are left to it.
func (s *session) canaryService() object {
	u := s.lay.objs[s.lay.service].u.DeepCopy()
	u.SetName(canaryName(u.GetName()))
	addLabels(u, map[string]string{LabelTrack: string(trackCanary)}, "metadata", "labels")
	addLabels(u, map[string]string{LabelTrack: string(trackCanary)}, "spec", "selector")
	unstructured.RemoveNestedField(u.Object, "spec", "clusterIP")
	unstructured.RemoveNestedField(u.Object, "spec", "clusterIPs")
	unstructured.RemoveNestedField(u.Object, "spec", "healthCheckNodePort")
	ports, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
	for _, p := range ports {
		if m, ok := p.(map[string]any); ok {
			delete(m, "nodePort")
		}
	}
	if ports != nil {
		_ = unstructured.SetNestedSlice(u.Object, ports, "spec", "ports")
	}
	return s.lay.restamp(object{u: u})[0]
}

// routeAt returns the HTTPRoute with weight percent of each rule's traffic
// to the stable Service sent to the canary Service instead.
func (s *session) routeAt(weight int64) (object, error) {
	u := s.lay.objs[s.lay.route].u.DeepCopy()
	stable := s.lay.objs[s.lay.service].u.GetName()
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	found := false
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		refs, ok := splitBackends(rule, stable, weight)
		found = found || ok
		if ok {
			rule["backendRefs"] = refs
		}
	}
	if !found {
		return object{}, reconcile.Stalled(fmt.Errorf("HTTPRoute %s has no backendRef to Service %s; the canary cannot shift its traffic", u.GetName(), stable))
	}
	_ = unstructured.SetNestedSlice(u.Object, rules, "spec", "rules")
	return s.lay.restamp(object{u: u})[0], nil
}

// splitBackends returns a rule's backendRefs with the one to Service
// stable weighted 100-weight and a copy to its canary weighted weight, and
// whether the rule sends to stable at all.
func splitBackends(rule map[string]any, stable string, weight int64) ([]any, bool) {
	refs, _ := rule["backendRefs"].([]any)
	var out []any
	found := false
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		if ref["name"] == canaryName(stable) {
			continue
		}
		if ref["name"] != stable || (ref["kind"] != nil && ref["kind"] != "Service") {
			out = append(out, ref)
			continue
		}
		found = true
		c := runtimeCopy(ref)
		c["name"], c["weight"] = canaryName(stable), weight
		ref["weight"] = 100 - weight
		out = append(out, ref, c)
	}
	return out, found
}

func runtimeCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

// canaryShift sends weight percent of traffic to the canary: through the
// route's weights, or else by splitting the workload's replicas between
// the canary and stable copies. Without a canary (a first deploy) there is
// nothing to shift.
func (s *session) canaryShift(ctx context.Context, weight int64) error {
	if live, err := s.canaryLive(ctx); err != nil || !live {
		return err
	}
	if s.lay.route >= 0 {
		return s.shiftRoute(ctx, weight)
	}
	return s.shiftReplicas(ctx, weight)
}

// shiftRoute waits until the canary is healthy, then applies the route's
// new weights and reads them back.
func (s *session) shiftRoute(ctx context.Context, weight int64) error {
	route, err := s.routeAt(weight)
	if err != nil {
		return err
	}
	if err := s.awaitHealthy(ctx, "the canary", s.canaryWorkload(0)); err != nil {
		return err
	}
	if err := s.applyOne(ctx, route); err != nil {
		return err
	}
	want, _, _ := unstructured.NestedSlice(route.u.Object, "spec", "rules")
	return s.await(ctx, "the route's weights", func(ctx context.Context) (bool, string, error) {
		live, err := s.cl.get(ctx, route.ref())
		if err != nil || live == nil {
			return false, "route not found", err
		}
		got, _, _ := unstructured.NestedSlice(live.Object, "spec", "rules")
		return len(compareValue("spec.rules", want, got)) == 0, "weights not applied", nil
	})
}

// canaryReplicas splits total replicas: the canary gets weight percent,
// rounded up, and at least one when weight is positive.
func canaryReplicas(total, weight int64) (canary, stable int64) {
	canary = (total*weight + 99) / 100
	if weight > 0 && canary == 0 {
		canary = 1
	}
	canary = min(canary, total)
	return canary, total - canary
}

// shiftReplicas scales the canary and stable workloads to weight percent
// and 100-weight percent of the workload's replicas and waits until both
// have rolled out.
func (s *session) shiftReplicas(ctx context.Context, weight int64) error {
	prev, err := s.previous()
	if err != nil || prev == nil {
		return err
	}
	c, st := canaryReplicas(replicas(s.lay.objs[s.lay.workload].u), weight)
	stable := prev.objs[prev.workload].u.DeepCopy()
	_ = unstructured.SetNestedField(stable.Object, st, "spec", "replicas")
	objs := []object{s.canaryWorkload(c), prev.restamp(object{u: stable})[0]}
	if err := s.apply(ctx, objs); err != nil {
		return err
	}
	return s.awaitHealthy(ctx, "the canary and stable replicas", objs...)
}

// awaitHealthy waits until objs are healthy; a failure is Stalled.
func (s *session) awaitHealthy(ctx context.Context, what string, objs ...object) error {
	return s.await(ctx, what, func(ctx context.Context) (bool, string, error) {
		h, err := s.health(ctx, objs)
		if err == nil && h.State == reconcile.HealthFailed {
			err = reconcile.Stalled(fmt.Errorf("canary failed: %s", h.Reason))
		}
		return h.State == reconcile.HealthHealthy, h.Reason, err
	})
}

// await polls check until it holds, returning a Waiting error with the
// last reason after shiftTimeout.
func (s *session) await(ctx context.Context, what string, check func(context.Context) (bool, string, error)) error {
	var reason string
	err := wait.PollUntilContextTimeout(ctx, pollInterval, shiftTimeout, true, func(ctx context.Context) (bool, error) {
		ok, r, err := check(ctx)
		if r != "" {
			reason = r
		}
		return ok, err
	})
	if wait.Interrupted(err) && ctx.Err() == nil {
		return reconcile.Waiting(requeueAfter, "waiting for %s: %s", what, reason)
	}
	return err
}

// canaryPromote rolls the stable workload to the new version (returning a
// Waiting error until it is healthy), then sends all traffic back to it
// and prunes the canary copies with every object that left Git.
func (s *session) canaryPromote(ctx context.Context) error {
	if err := s.apply(ctx, without(s.lay.objs, s.lay.route)); err != nil {
		return err
	}
	h, err := s.health(ctx, []object{s.lay.objs[s.lay.workload]})
	switch {
	case err != nil:
		return err
	case h.State == reconcile.HealthFailed:
		return reconcile.Stalled(fmt.Errorf("promoting the canary: %s", h.Reason))
	case h.State == reconcile.HealthProgressing:
		return reconcile.Waiting(requeueAfter, "waiting for the stable workload to roll out: %s", h.Reason)
	}
	if s.lay.route >= 0 {
		if err := s.applyOne(ctx, s.lay.objs[s.lay.route]); err != nil {
			return err
		}
	}
	return s.prune(ctx, s.lay.objs, nil, s.d.Revision)
}
