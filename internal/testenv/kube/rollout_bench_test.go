package kube_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// BenchmarkImageBump measures how long the cluster takes to roll out an
// image change of a 2-replica Deployment (the agent's benchmark's
// manifests: default RollingUpdate, one pod surged at a time), from the
// apply until the Deployment is fully rolled out. With -v it logs every
// Deployment, ReplicaSet and Pod transition of the last rollout, seen
// through a watch.
//
//	go test ./internal/testenv/kube -run '^$' -bench ImageBump -v
func BenchmarkImageBump(b *testing.B) {
	c := kube.Shared(b)
	cs, ns := c.Clientset(), c.NewNamespace(b)
	tr := watchRollout(b, c, ns)
	d := deployment{name: "web", image: goodImage, replicas: 2}
	if _, err := d.apply(b.Context(), cs, ns); err != nil {
		b.Fatal(err)
	}
	tr.waitRolledOut(b, 1)
	var total, slowest time.Duration
	var slowTrace []string
	for i := 0; b.Loop(); i++ {
		d.image = fmt.Sprintf("%s-%d", goodImage2, i)
		tr.reset()
		start := time.Now()
		applied, err := d.apply(b.Context(), cs, ns)
		if err != nil {
			b.Fatal(err)
		}
		tr.waitRolledOut(b, applied.Generation)
		took := time.Since(start)
		total += took
		if took > slowest {
			slowest, slowTrace = took, tr.take()
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "rollout-s")
	b.ReportMetric(slowest.Seconds(), "slowest-rollout-s")
	b.ReportMetric(0, "ns/op")
	b.Logf("the slowest rollout (%s), from the apply:\n%s", slowest.Round(time.Millisecond), strings.Join(slowTrace, "\n"))
}

// rolloutTrace records the transitions of one namespace's Deployments,
// ReplicaSets and Pods.
type rolloutTrace struct {
	mu      sync.Mutex
	start   time.Time
	lines   []string
	done    map[int64]time.Time // Deployment generation → rolled out
	changed chan struct{}
}

func watchRollout(b *testing.B, c *kube.Cluster, ns string) *rolloutTrace {
	tr := &rolloutTrace{start: time.Now(), done: map[int64]time.Time{}, changed: make(chan struct{}, 1)}
	f := informers.NewSharedInformerFactoryWithOptions(c.Clientset(), 0, informers.WithNamespace(ns))
	on := func(describe func(any) string) cache.ResourceEventHandler {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { tr.note("add    " + describe(o)) },
			UpdateFunc: func(_, o any) { tr.note("update " + describe(o)) },
			DeleteFunc: func(o any) {
				if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
					o = t.Obj
				}
				tr.note("delete " + describe(o))
			},
		}
	}
	_, _ = f.Apps().V1().Deployments().Informer().AddEventHandler(on(func(o any) string {
		d := o.(*appsv1.Deployment)
		if rolledOut(d) {
			tr.rolledOut(d.Generation)
		}
		return "deploy " + describe(d)
	}))
	_, _ = f.Apps().V1().ReplicaSets().Informer().AddEventHandler(on(func(o any) string {
		r := o.(*appsv1.ReplicaSet)
		return fmt.Sprintf("rs     %s spec %d status %d ready %d avail %d gen %d/%d",
			r.Name, *r.Spec.Replicas, r.Status.Replicas, r.Status.ReadyReplicas, r.Status.AvailableReplicas,
			r.Status.ObservedGeneration, r.Generation)
	}))
	_, _ = f.Core().V1().Pods().Informer().AddEventHandler(on(func(o any) string {
		p := o.(*corev1.Pod)
		return fmt.Sprintf("pod    %s node=%q phase=%s ready=%t deleting=%t", p.Name, p.Spec.NodeName,
			p.Status.Phase, podReady(p), p.DeletionTimestamp != nil)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	return tr
}

func (t *rolloutTrace) note(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, fmt.Sprintf("%s %7.3fs %s", time.Now().UTC().Format("15:04:05.000"), time.Since(t.start).Seconds(), line))
}

func (t *rolloutTrace) rolledOut(gen int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.done[gen]; !ok {
		t.done[gen] = time.Now()
	}
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// take returns the transitions noted since the last reset.
func (t *rolloutTrace) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

func (t *rolloutTrace) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start, t.lines = time.Now(), nil
}

func (t *rolloutTrace) waitRolledOut(b *testing.B, gen int64) {
	deadline := time.After(waitTimeout)
	for {
		t.mu.Lock()
		_, ok := t.done[gen]
		t.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-t.changed:
		case <-deadline:
			t.log(b)
			b.Fatalf("generation %d not rolled out within %s", gen, waitTimeout)
		}
	}
}

func (t *rolloutTrace) log(b *testing.B) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b.Logf("the last rollout, from the apply:\n%s", strings.Join(t.lines, "\n"))
}
