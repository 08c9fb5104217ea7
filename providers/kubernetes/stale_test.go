package kubernetes

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// A rollout applied right after a failed one is not failed by the failed
// one's ProgressDeadlineExceeded condition, which the Deployment carries
// until the controller observes the new generation: it is progressing,
// then healthy.
func TestARolloutAfterAFailedOneIsNotFailedByItsStaleCondition(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	bad := webDeployment("web", "registry.test/web:bad", 1, kube.NeverReadyLabel+`: "true"`)
	_ = unstructured.SetNestedField(bad, int64(1), "spec", "progressDeadlineSeconds")
	if err := p.Apply(t.Context(), deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, bad))); err != nil {
		t.Fatal(err)
	}
	deps := c.Clientset().AppsV1().Deployments(ns)
	var dep *appsv1.Deployment
	poll(t, "rev1 to exceed its progress deadline", func(ctx context.Context) (bool, error) {
		var err error
		dep, err = deps.Get(ctx, "web", metav1.GetOptions{})
		return err == nil && timedOut(dep), err
	})

	// The fix, as the API server stores it: a new generation, the status of
	// the old one.
	// The controller may write the status between the read and the update:
	// read again and retry on a conflict, as any client must.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := deps.Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Spec.Template = getTemplate(t, "registry.test/web:v2")
		cur.Spec.ProgressDeadlineSeconds = new(int32(60))
		dep, err = deps.Update(t.Context(), cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !timedOut(dep) || dep.Status.ObservedGeneration >= dep.Generation {
		t.Fatalf("the update's response is observed (generation %d, %d observed) or lost the old condition", dep.Generation, dep.Status.ObservedGeneration)
	}
	if h := objectHealth(deploymentRef(ns), toUnstructured(t, dep), time.Now()); h.State != reconcile.HealthProgressing {
		t.Errorf("health of the unobserved fix = %s %q, want progressing", h.State, h.Reason)
	}

	d2 := deployment(ns, "rev2", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v2", 1)))
	poll(t, "the fix to be healthy", func(ctx context.Context) (bool, error) {
		h, err := p.Health(ctx, d2)
		if err == nil && h.State == reconcile.HealthFailed {
			return false, fmt.Errorf("the fix was failed: %s", h.Reason)
		}
		return h.State == reconcile.HealthHealthy, err
	})
}

// timedOut reports whether dep carries ProgressDeadlineExceeded.
func timedOut(dep *appsv1.Deployment) bool {
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return true
		}
	}
	return false
}

// getTemplate returns the pod template of webDeployment with img.
func getTemplate(t *testing.T, img string) corev1.PodTemplateSpec {
	t.Helper()
	var dep appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(webDeployment("web", img, 1), &dep); err != nil {
		t.Fatal(err)
	}
	return dep.Spec.Template
}

func deploymentRef(ns string) objectRef {
	return objectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"}
}

func toUnstructured(t *testing.T, o any) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}
