package kubernetes

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Two sources' applications of the same name, environment and target
// allowed the same namespace share an inventory name. The first one's
// inventory records its source; the second is refused, stalled, at diff,
// apply, promotion and rollback, and nothing of the first is changed or
// pruned.
func TestInventoryOfAnotherSourceIsRefused(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	a := deployment(ns, "a1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:a1", 1), configMap("settings", "a")))
	a.Source = "team-a"
	rollOut(t, p, a)
	if inv := readInventory(t, c, a); inv.Source != "team-a" || len(inv.Objects) != 2 {
		t.Fatalf("inventory = %+v, want 2 objects owned by team-a", inv)
	}
	cm, err := c.Clientset().CoreV1().ConfigMaps(ns).Get(t.Context(), inventoryName("shop", "staging", "web"), metav1.GetOptions{})
	if err != nil || cm.Labels[LabelSource] != "team-a" {
		t.Fatalf("inventory labels = %v, %v", cm.Labels, err)
	}

	b := deployment(ns, "b1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:b1", 1), configMap("other", "b")))
	b.Source = "team-b"
	_, diffErr := p.Diff(t.Context(), b)
	calls := map[string]error{"diff": diffErr, "apply": p.Apply(t.Context(), b), "promote": p.Promote(t.Context(), b), "rollback": p.Rollback(t.Context(), b)}
	for call, err := range calls {
		if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "belongs to the application of the same name in source team-a") ||
			!strings.Contains(err.Error(), "source team-b may not adopt or prune its objects") {
			t.Errorf("%s of team-b's application = %v, want a stalled refusal naming both sources", call, err)
		}
	}
	if got := image(getDeployment(t, c, ns, "web")); got != "registry.test/web:a1" {
		t.Errorf("team-a's Deployment runs %s", got)
	}
	if _, err := c.Clientset().CoreV1().ConfigMaps(ns).Get(t.Context(), "settings", metav1.GetOptions{}); err != nil {
		t.Errorf("team-a's ConfigMap: %v", err)
	}
	if _, err := c.Clientset().CoreV1().ConfigMaps(ns).Get(t.Context(), "other", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("team-b's ConfigMap was applied: %v", err)
	}
	if inv := readInventory(t, c, a); inv.Source != "team-a" || inv.Revision != "a1" {
		t.Errorf("inventory = %+v, want team-a's at a1", inv)
	}
}

// An inventory written before sources were recorded is claimed by the
// next write of its application.
func TestLegacyInventoryIsClaimed(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	legacy := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, configMap("settings", "1")))
	rollOut(t, p, legacy)
	if inv := readInventory(t, c, legacy); inv.Source != "" {
		t.Fatalf("inventory source = %q", inv.Source)
	}
	d := next(legacy, "rev2", target(spec.KubernetesTarget{}, configMap("settings", "2")))
	d.Source = "team-a"
	rollOut(t, p, d)
	if inv := readInventory(t, c, d); inv.Source != "team-a" || inv.Revision != "rev2" {
		t.Errorf("inventory = %+v, want claimed by team-a at rev2", inv)
	}
}
