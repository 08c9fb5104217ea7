package kubernetes

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// deleteUntilDone calls Delete until it stops waiting.
func deleteUntilDone(t *testing.T, p *Platform, d *reconcile.Deployment) error {
	t.Helper()
	var last error
	poll(t, "deletion", func(ctx context.Context) (bool, error) {
		last = p.Delete(ctx, d)
		var w *reconcile.WaitingError
		return !errors.As(last, &w), nil
	})
	return last
}

// Deleting the target of an application that left Git deletes every
// object of its inventory, including one an earlier revision applied that
// a later one retained, and then the inventory; an object Jibe did not
// apply stays, and deleting again is nil.
func TestDeleteRemovesTheInventoryAndItsObjects(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{},
		webDeployment("web", "registry.test/web:v1", 1), webService("web"), configMap("web", "v1")))
	d.Tenancy = tenant(ns)
	rollOut(t, p, d)
	cs := c.Clientset()
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := deleteUntilDone(t, p, d); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	_, depErr := cs.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	_, svcErr := cs.CoreV1().Services(ns).Get(t.Context(), "web", metav1.GetOptions{})
	_, cmErr := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "web", metav1.GetOptions{})
	_, invErr := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), inventoryName(d.App, d.Env, d.Target.Name), metav1.GetOptions{})
	for what, err := range map[string]error{"deployment": depErr, "service": svcErr, "config map": cmErr, "inventory": invErr} {
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s after the deletion: %v, want not found", what, err)
		}
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "other", metav1.GetOptions{}); err != nil {
		t.Errorf("a config map Jibe did not apply: %v, want it kept", err)
	}
	if err := p.Delete(t.Context(), d); err != nil {
		t.Errorf("deleting again = %v, want nil", err)
	}
}

// Tenancy is checked again before a deletion: a source that may no
// longer write the namespace deletes nothing there, and says why.
func TestDeleteRespectsTenancy(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, configMap("web", "v1")))
	rollOut(t, p, d)

	d.Tenancy = tenant("elsewhere")
	err := p.Delete(t.Context(), d)
	if err == nil || reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Fatalf("Delete outside the tenancy = %v, want a stalled refusal", err)
	}
	if _, err := c.Clientset().CoreV1().ConfigMaps(ns).Get(t.Context(), "web", metav1.GetOptions{}); err != nil {
		t.Errorf("the config map after a refused deletion: %v, want it kept", err)
	}
}
