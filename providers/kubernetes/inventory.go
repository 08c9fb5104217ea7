package kubernetes

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Keys of the inventory ConfigMap's data.
const (
	inventoryObjects  = "objects"
	inventoryRetained = "retained"
	inventoryRevision = "revision"
)

// inventory is what Jibe applied for one target of one environment,
// stored in the cluster (ConfigMap jibe-inventory-<app>-<env>-<target> in
// the deployment's namespace), so that pruning needs no label query.
type inventory struct {
	// Objects are the applied objects that are not retained.
	Objects []objectRef
	// Retained are objects kept after a promotion for a rollback window (a
	// blue/green deployment's previous workload), deleted by Cleanup.
	Retained []objectRef
	// Revision is the last revision applied.
	Revision string
}

// inventoryName names the inventory ConfigMap.
func inventoryName(app, env, target string) string {
	name := strings.Join([]string{"jibe-inventory", app, env, target}, "-")
	if len(name) > 253 {
		name = name[:253]
	}
	return name
}

// has reports whether refs holds an object with r's identity.
func has(refs []objectRef, r objectRef) bool {
	return slices.ContainsFunc(refs, func(x objectRef) bool { return x.id() == r.id() })
}

// union returns a's objects followed by b's that a lacks; b's version wins
// for objects in both.
func union(a, b []objectRef) []objectRef {
	out := slices.Clone(b)
	for _, r := range a {
		if !has(b, r) {
			out = append(out, r)
		}
	}
	sortRefs(out)
	return out
}

// minus returns a's objects that b lacks.
func minus(a, b []objectRef) []objectRef {
	var out []objectRef
	for _, r := range a {
		if !has(b, r) {
			out = append(out, r)
		}
	}
	return out
}

// sortRefs orders refs by apply rank, then identity, so that an inventory's
// encoding is stable and deletes can run in reverse.
func sortRefs(refs []objectRef) {
	slices.SortFunc(refs, func(a, b objectRef) int {
		if a.applyRank() != b.applyRank() {
			return a.applyRank() - b.applyRank()
		}
		return strings.Compare(a.id(), b.id())
	})
}

// refsOf returns the references of objs.
func refsOf(objs []object) []objectRef {
	out := make([]objectRef, len(objs))
	for i, o := range objs {
		out[i] = o.ref()
	}
	return out
}

// configMap encodes the inventory as ConfigMap name in namespace.
func (inv inventory) configMap(namespace, name string, s stamp) (*unstructured.Unstructured, error) {
	objects, err := json.Marshal(append([]objectRef{}, inv.Objects...))
	if err != nil {
		return nil, err
	}
	retained, err := json.Marshal(append([]objectRef{}, inv.Retained...))
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{Data: map[string]string{
		inventoryObjects: string(objects), inventoryRetained: string(retained), inventoryRevision: inv.Revision,
	}}
	cm.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	cm.Name, cm.Namespace = name, namespace
	cm.Labels = map[string]string{LabelApp: s.app, LabelEnvironment: s.env, LabelTarget: s.target}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cm)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: raw}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}

// decodeInventory reads an inventory ConfigMap; nil reads as empty.
func decodeInventory(u *unstructured.Unstructured) (inventory, error) {
	var inv inventory
	if u == nil {
		return inv, nil
	}
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	inv.Revision = data[inventoryRevision]
	for key, dst := range map[string]*[]objectRef{inventoryObjects: &inv.Objects, inventoryRetained: &inv.Retained} {
		if data[key] == "" {
			continue
		}
		if err := json.Unmarshal([]byte(data[key]), dst); err != nil {
			return inv, fmt.Errorf("inventory %s/%s: %s: %w", u.GetNamespace(), u.GetName(), key, err)
		}
	}
	return inv, nil
}
