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
	inventorySource   = "source"
)

// LabelSource is the source of the application an inventory belongs to.
// Applications of the same name in two sources are different
// applications: the inventory records its owner, and another source's
// application is refused its objects.
const LabelSource = "jibe.dev/source"

// inventory is what Jibe applied for one target of one environment,
// stored in the cluster (ConfigMap jibe-inventory-<app>-<env>-<target> in
// the deployment's namespace), so that pruning needs no label query.
type inventory struct {
	// Objects are the applied objects that are not retained.
	Objects []objectRef
	// Retained are objects kept after a promotion for a rollback window (a
	// blue/green deployment's previous workload), deleted by Cleanup.
	Retained []objectRef
	// Revision is the last revision that changed what the inventory holds
	// (its objects, retained objects or owner): a revision applying the
	// same objects writes no inventory.
	Revision string
	// Source is the source of the application that owns the inventory;
	// empty in inventories written before sources were recorded, which
	// the next write claims.
	Source string
}

// inventoryPrefix begins the name of every inventory ConfigMap.
const inventoryPrefix = "jibe-inventory-"

// inventoryName names the inventory ConfigMap.
func inventoryName(app, env, target string) string {
	name := inventoryPrefix + strings.Join([]string{app, env, target}, "-")
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
	if inv.Source != "" {
		cm.Data[inventorySource], cm.Labels[LabelSource] = inv.Source, inv.Source
	}
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
	inv.Revision, inv.Source = data[inventoryRevision], data[inventorySource]
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

// ownedBy refuses an inventory that another source's application of the
// same name wrote: two sources' applications of one name, environment and
// target deploying to the same namespace would otherwise adopt and prune
// each other's objects. An inventory without source (written before
// sources were recorded) or a deployment without one (jibe plan outside
// the agent) is not refused.
func (inv inventory) ownedBy(source, namespace, name string) error {
	if inv.Source == "" || source == "" || inv.Source == source {
		return nil
	}
	return &ownerError{Namespace: namespace, Inventory: name, Owner: inv.Source, Source: source}
}

// ownerError says that an application's inventory in a namespace belongs
// to another source's application of the same name. It is stalled: nothing
// is applied or pruned until the spec or the configuration changes.
type ownerError struct {
	Namespace, Inventory string
	// Owner is the source the inventory belongs to; Source the one refused.
	Owner, Source string
}

// Error names the inventory, both sources and what to do.
func (e *ownerError) Error() string {
	return fmt.Sprintf("inventory ConfigMap %s/%s belongs to the application of the same name in source %s; "+
		"source %s may not adopt or prune its objects: rename one of the applications, or deploy them to different namespaces",
		e.Namespace, e.Inventory, e.Owner, e.Source)
}
