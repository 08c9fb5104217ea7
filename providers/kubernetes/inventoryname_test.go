package kubernetes

import (
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// An application's manifest named like an inventory ConfigMap (here
// another source's, in a namespace both may use) would overwrite it: a
// forged owner or object list would let the forger adopt, or make the
// owner prune, what it lists. Jibe's own ConfigMaps are refused as
// manifests, and the inventory stays as its owner wrote it.
func TestManifestNamedLikeAnInventoryIsRefused(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	a := deployment(ns, "a1", nil, target(spec.KubernetesTarget{}, configMap("settings", "a")))
	a.Source = "team-a"
	rollOut(t, p, a)

	forged := configMap(inventoryName("shop", "staging", "web"), "x")
	forged["data"] = map[string]any{inventorySource: "team-b", inventoryObjects: "[]"}
	b := deployment(ns, "b1", nil, target(spec.KubernetesTarget{}, forged))
	b.App, b.Source = "forger", "team-b"
	err := p.Apply(t.Context(), b)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "jibe-inventory-") {
		t.Errorf("apply of a manifest named like an inventory = %v, want a stalled refusal naming it", err)
	}
	if inv := readInventory(t, c, a); inv.Source != "team-a" || len(inv.Objects) != 1 {
		t.Errorf("inventory = %+v, want team-a's with its object", inv)
	}
}
