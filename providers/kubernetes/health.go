package kubernetes

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/jibe-dev/jibe/reconcile"
)

// healthFunc tells the health of a live object of one kind at time now.
type healthFunc func(u *unstructured.Unstructured, now time.Time) reconcile.Health

// healthByKind are the kinds with a rule of their own; any other kind
// follows genericHealth.
var healthByKind = map[schema.GroupKind]healthFunc{
	{Group: "apps", Kind: "Deployment"}:                               deploymentHealth,
	{Group: "apps", Kind: "StatefulSet"}:                              statefulSetHealth,
	{Group: "apps", Kind: "DaemonSet"}:                                daemonSetHealth,
	{Group: "batch", Kind: "Job"}:                                     jobHealth,
	{Kind: "Service"}:                                                 serviceHealth,
	{Group: "networking.k8s.io", Kind: "Ingress"}:                     ingressHealth,
	{Kind: "PersistentVolumeClaim"}:                                   pvcHealth,
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:           hpaHealth,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: crdHealth,
}

// objectHealth returns the health of a live object at time now; a missing
// one is progressing (its creation is not visible yet).
func objectHealth(ref objectRef, u *unstructured.Unstructured, now time.Time) reconcile.Health {
	if u == nil {
		return progressing("%s does not exist yet", ref)
	}
	if u.GetDeletionTimestamp() != nil {
		return progressing("%s is being deleted", ref)
	}
	f, ok := healthByKind[ref.groupKind()]
	if !ok {
		f = genericHealth
	}
	h := f(u, now)
	if h.State != reconcile.HealthHealthy {
		h.Reason = ref.String() + ": " + h.Reason
	}
	h.Instances = workloadInstances(ref, u)
	return h
}

// aggregate combines objects' health: failed beats progressing beats
// healthy, and the reasons of the worst state are joined.
func aggregate(hs []reconcile.Health) reconcile.Health {
	worst := reconcile.Health{State: reconcile.HealthHealthy, Reason: fmt.Sprintf("%d objects healthy", len(hs))}
	var reasons []string
	for _, h := range hs {
		worst.Instances = addInstances(worst.Instances, h.Instances)
		switch {
		case rank(h.State) > rank(worst.State):
			worst.State, reasons = h.State, []string{h.Reason}
		case h.State == worst.State && h.State != reconcile.HealthHealthy:
			reasons = append(reasons, h.Reason)
		}
	}
	if len(reasons) > 0 {
		worst.Reason = strings.Join(reasons, "; ")
	}
	return worst
}

func rank(s reconcile.HealthState) int {
	switch s {
	case reconcile.HealthFailed:
		return 2
	case reconcile.HealthProgressing:
		return 1
	}
	return 0
}

func healthy() reconcile.Health { return reconcile.Health{State: reconcile.HealthHealthy} }

func progressing(format string, args ...any) reconcile.Health {
	return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf(format, args...)}
}

func failed(format string, args ...any) reconcile.Health {
	return reconcile.Health{State: reconcile.HealthFailed, Reason: fmt.Sprintf(format, args...)}
}

func integer(u *unstructured.Unstructured, fields ...string) int64 {
	v, _, _ := unstructured.NestedInt64(u.Object, fields...)
	return v
}

// observed reports whether the controller has seen the object's latest
// generation.
func observed(u *unstructured.Unstructured) bool {
	g, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return found && g >= u.GetGeneration()
}

// condition returns the condition of type t, or nil.
func condition(u *unstructured.Unstructured, t string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == t {
			return m
		}
	}
	return nil
}

// conditionStatus returns the status of condition t ("" when absent).
func conditionStatus(u *unstructured.Unstructured, t string) string {
	s, _ := condition(u, t)["status"].(string)
	return s
}

// conditionReason returns "reason: message" of condition t.
func conditionReason(u *unstructured.Unstructured, t string) string {
	c := condition(u, t)
	return fmt.Sprintf("%v: %v", c["reason"], c["message"])
}

// replicas returns spec.replicas, 1 when unset as the API defaults it.
func replicas(u *unstructured.Unstructured) int64 {
	r, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		return 1
	}
	return r
}

// defaultProgressDeadline is a Deployment's progressDeadlineSeconds when
// unset.
const defaultProgressDeadline = 600 * time.Second

// deploymentHealth follows kubectl rollout status: until the Deployment
// controller has observed the latest generation, the conditions and counts
// are those of the previous one (a failed rollout's ProgressDeadlineExceeded
// among them), and the rollout is progressing, never failed. Once observed,
// it fails on ProgressDeadlineExceeded or, since the Deployment controller
// does not time out a scale-up (a canary's), when the Deployment has been
// unavailable and made no progress for longer than its progress deadline.
func deploymentHealth(u *unstructured.Unstructured, now time.Time) reconcile.Health {
	if !observed(u) {
		return progressing("rollout not observed yet")
	}
	if c := condition(u, "Progressing"); c != nil && c["reason"] == "ProgressDeadlineExceeded" {
		return failed("%s (no progress within the progress deadline, %s)", conditionReason(u, "Progressing"), progressDeadline(u))
	}
	if h, down := unavailableTooLong(u, now); down {
		return h
	}
	want := replicas(u)
	updated, total := integer(u, "status", "updatedReplicas"), integer(u, "status", "replicas")
	available := integer(u, "status", "availableReplicas")
	switch {
	case updated < want:
		return progressing("%d of %d pods updated", updated, want)
	case total > updated:
		return progressing("%d old pods terminating", total-updated)
	case available < updated:
		return progressing("%d of %d updated pods available", available, updated)
	}
	return healthy()
}

// unavailableTooLong fails a Deployment whose Available condition has
// been False, and whose Progressing condition has reported no progress
// (a new ReplicaSet, more pods updated, ready or available), for longer
// than its progress deadline. The Available condition keeps the time it
// turned False across rollouts: a rollout that follows an unavailable one
// gets its own deadline from its first progress.
func unavailableTooLong(u *unstructured.Unstructured, now time.Time) (reconcile.Health, bool) {
	c := condition(u, "Available")
	if c == nil || c["status"] != "False" {
		return reconcile.Health{}, false
	}
	since, err := time.Parse(time.RFC3339, fmt.Sprint(c["lastTransitionTime"]))
	if p, perr := time.Parse(time.RFC3339, fmt.Sprint(condition(u, "Progressing")["lastUpdateTime"])); perr == nil && p.After(since) {
		since = p
	}
	deadline := progressDeadline(u)
	if err != nil || now.Sub(since) <= deadline {
		return reconcile.Health{}, false
	}
	return failed("%s (unavailable for longer than the progress deadline, %s)", conditionReason(u, "Available"), deadline), true
}

// progressDeadline returns the Deployment's spec.progressDeadlineSeconds,
// or Kubernetes' default.
func progressDeadline(u *unstructured.Unstructured) time.Duration {
	if secs, found, _ := unstructured.NestedInt64(u.Object, "spec", "progressDeadlineSeconds"); found {
		return time.Duration(secs) * time.Second
	}
	return defaultProgressDeadline
}

func statefulSetHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	want := replicas(u)
	ready, updated := integer(u, "status", "readyReplicas"), integer(u, "status", "updatedReplicas")
	current, _, _ := unstructured.NestedString(u.Object, "status", "currentRevision")
	update, _, _ := unstructured.NestedString(u.Object, "status", "updateRevision")
	strategy, _, _ := unstructured.NestedString(u.Object, "spec", "updateStrategy", "type")
	switch {
	case !observed(u):
		return progressing("rollout not observed yet")
	case ready < want:
		return progressing("%d of %d pods ready", ready, want)
	case strategy != "OnDelete" && (updated < want || current != update):
		return progressing("%d of %d pods updated", updated, want)
	}
	return healthy()
}

func daemonSetHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	want := integer(u, "status", "desiredNumberScheduled")
	updated, available := integer(u, "status", "updatedNumberScheduled"), integer(u, "status", "numberAvailable")
	switch {
	case !observed(u):
		return progressing("rollout not observed yet")
	case updated < want:
		return progressing("%d of %d pods updated", updated, want)
	case available < want:
		return progressing("%d of %d pods available", available, want)
	}
	return healthy()
}

func jobHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	switch {
	case conditionStatus(u, "Failed") == "True":
		return failed("%s", conditionReason(u, "Failed"))
	case conditionStatus(u, "Complete") == "True":
		return healthy()
	}
	return progressing("%d pods succeeded", integer(u, "status", "succeeded"))
}

// hasIngress reports whether a load balancer reports an address.
func hasIngress(u *unstructured.Unstructured) bool {
	ing, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress")
	return len(ing) > 0
}

func serviceHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	t, _, _ := unstructured.NestedString(u.Object, "spec", "type")
	if t == "LoadBalancer" && !hasIngress(u) {
		return progressing("waiting for the load balancer's address")
	}
	return healthy()
}

func ingressHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	if !hasIngress(u) {
		return progressing("waiting for the ingress controller to report an address")
	}
	return healthy()
}

func pvcHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	switch phase {
	case "Bound":
		return healthy()
	case "Lost":
		return failed("claim lost its volume")
	}
	return progressing("claim is %s, not Bound", phase)
}

func hpaHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	if conditionStatus(u, "AbleToScale") == "False" {
		return failed("%s", conditionReason(u, "AbleToScale"))
	}
	return healthy()
}

func crdHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	if conditionStatus(u, "Established") != "True" {
		return progressing("not established yet")
	}
	return healthy()
}

// genericHealth serves custom resources following the conventions of
// kstatus: a Stalled=True condition fails, an unobserved generation or a
// Ready or Available condition that is not True is progressing, and an
// object without conditions is healthy.
func genericHealth(u *unstructured.Unstructured, _ time.Time) reconcile.Health {
	if conditionStatus(u, "Stalled") == "True" {
		return failed("%s", conditionReason(u, "Stalled"))
	}
	if _, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); found && !observed(u) {
		return progressing("generation %d not observed yet", u.GetGeneration())
	}
	for _, t := range []string{"Ready", "Available"} {
		if s := conditionStatus(u, t); s != "" && s != "True" {
			return progressing("%s is %s (%s)", t, s, conditionReason(u, t))
		}
	}
	return healthy()
}
