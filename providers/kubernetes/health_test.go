package kubernetes

import (
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

func TestObjectHealth(t *testing.T) {
	for _, tc := range []struct {
		name, object string
		want         reconcile.HealthState
		reason       string
	}{
		{"deployment rolled out", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 2}, spec: {replicas: 2},
			status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}}`, reconcile.HealthHealthy, ""},
		{"deployment not observed", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 3}, spec: {replicas: 2},
			status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}}`, reconcile.HealthProgressing, "not observed"},
		{"deployment rolling", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 2}, spec: {replicas: 3},
			status: {observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3}}`, reconcile.HealthProgressing, "1 of 3 pods updated"},
		{"deployment past its deadline", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 2},
			status: {observedGeneration: 2, conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: ReplicaSet "w-1" has timed out progressing.}]}}`,
			reconcile.HealthFailed, "ProgressDeadlineExceeded"},
		{"deployment unavailable past its deadline", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 2}, spec: {replicas: 1, progressDeadlineSeconds: 60},
			status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, conditions: [{type: Available, status: "False", reason: MinimumReplicasUnavailable, message: no,
			lastTransitionTime: "2026-01-01T00:08:00Z"}]}}`, reconcile.HealthFailed, "longer than the progress deadline, 1m0s"},
		{"deployment unavailable within its deadline", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 2}, spec: {replicas: 1},
			status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, conditions: [{type: Available, status: "False", reason: MinimumReplicasUnavailable, message: no,
			lastTransitionTime: "2026-01-01T00:08:00Z"}]}}`, reconcile.HealthProgressing, "0 of 1 updated pods available"},
		{"deployment not observed after a failed rollout", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 3}, spec: {replicas: 1},
			status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: ReplicaSet "w-1" has timed out progressing.}]}}`,
			reconcile.HealthProgressing, "not observed"},
		{"deployment not observed after an unavailable one", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 3}, spec: {replicas: 1, progressDeadlineSeconds: 60},
			status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, conditions: [{type: Available, status: "False", reason: MinimumReplicasUnavailable, message: no,
			lastTransitionTime: "2026-01-01T00:00:00Z"}]}}`, reconcile.HealthProgressing, "not observed"},
		{"deployment unavailable for long, progressing since", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 3}, spec: {replicas: 1, progressDeadlineSeconds: 60},
			status: {observedGeneration: 3, replicas: 2, updatedReplicas: 1, conditions: [{type: Available, status: "False", reason: MinimumReplicasUnavailable, message: no,
			lastTransitionTime: "2026-01-01T00:00:00Z"}, {type: Progressing, status: "True", reason: NewReplicaSetCreated, message: created, lastUpdateTime: "2026-01-01T00:09:30Z",
			lastTransitionTime: "2026-01-01T00:09:30Z"}]}}`, reconcile.HealthProgressing, "1 old pods terminating"},
		{"deployment unavailable, no progress within its deadline", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: w, generation: 3}, spec: {replicas: 1, progressDeadlineSeconds: 60},
			status: {observedGeneration: 3, replicas: 1, updatedReplicas: 1, conditions: [{type: Available, status: "False", reason: MinimumReplicasUnavailable, message: no,
			lastTransitionTime: "2026-01-01T00:00:00Z"}, {type: Progressing, status: "True", reason: NewReplicaSetAvailable, message: done, lastUpdateTime: "2026-01-01T00:08:00Z",
			lastTransitionTime: "2026-01-01T00:00:00Z"}]}}`, reconcile.HealthFailed, "longer than the progress deadline, 1m0s"},
		{"statefulset updating", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, readyReplicas: 2, updatedReplicas: 1, currentRevision: a, updateRevision: b}}`, reconcile.HealthProgressing, "1 of 2"},
		{"statefulset ready", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2, currentRevision: b, updateRevision: b}}`, reconcile.HealthHealthy, ""},
		{"daemonset ready", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}}`, reconcile.HealthHealthy, ""},
		{"daemonset unavailable", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1}}`, reconcile.HealthProgressing, "1 of 3"},
		{"job complete", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {conditions: [{type: Complete, status: "True"}]}}`, reconcile.HealthHealthy, ""},
		{"job failed", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {conditions: [{type: Failed, status: "True", reason: BackoffLimitExceeded, message: too many failures}]}}`,
			reconcile.HealthFailed, "BackoffLimitExceeded"},
		{"cluster IP service", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: ClusterIP}}`, reconcile.HealthHealthy, ""},
		{"load balancer pending", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer}}`, reconcile.HealthProgressing, "load balancer"},
		{"load balancer ready", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer}, status: {loadBalancer: {ingress: [{hostname: lb.example}]}}}`, reconcile.HealthHealthy, ""},
		{"ingress without address", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i}}`, reconcile.HealthProgressing, "address"},
		{"ingress with address", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i}, status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}}`, reconcile.HealthHealthy, ""},
		{"pvc pending", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: p}, status: {phase: Pending}}`, reconcile.HealthProgressing, "Pending"},
		{"pvc bound", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: p}, status: {phase: Bound}}`, reconcile.HealthHealthy, ""},
		{"hpa unable to scale", `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: h},
			status: {conditions: [{type: AbleToScale, status: "False", reason: FailedGetScale, message: no such deployment}]}}`, reconcile.HealthFailed, "FailedGetScale"},
		{"custom resource not ready", `{apiVersion: example.com/v1, kind: Database, metadata: {name: db, generation: 1},
			status: {observedGeneration: 1, conditions: [{type: Ready, status: "False", reason: Provisioning, message: creating}]}}`, reconcile.HealthProgressing, "Provisioning"},
		{"custom resource available", `{apiVersion: example.com/v1, kind: Database, metadata: {name: db, generation: 1},
			status: {observedGeneration: 1, conditions: [{type: Available, status: "True"}]}}`, reconcile.HealthHealthy, ""},
		{"custom resource stalled", `{apiVersion: example.com/v1, kind: Database, metadata: {name: db},
			status: {conditions: [{type: Stalled, status: "True", reason: InvalidSpec, message: bad size}]}}`, reconcile.HealthFailed, "InvalidSpec"},
		{"object without status", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`, reconcile.HealthHealthy, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := u(tc.object)
			h := objectHealth(refOf(o), o, time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC))
			if h.State != tc.want || !strings.Contains(h.Reason, tc.reason) {
				t.Errorf("health = %v %q, want %v containing %q", h.State, h.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestAggregateHealth(t *testing.T) {
	h := aggregate([]reconcile.Health{
		{State: reconcile.HealthHealthy}, progressing("a: 1 of 2"), failed("b: deadline"), progressing("c"), failed("d: backoff"),
	})
	if h.State != reconcile.HealthFailed || h.Reason != "b: deadline; d: backoff" {
		t.Errorf("aggregate = %+v", h)
	}
	if h := aggregate([]reconcile.Health{healthy(), healthy()}); h.State != reconcile.HealthHealthy || h.Reason != "2 objects healthy" {
		t.Errorf("aggregate of healthy = %+v", h)
	}
}
