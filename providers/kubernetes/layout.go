package kubernetes

import (
	"fmt"
	"maps"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// layout is a revision's objects as they run once it is promoted: decoded,
// placed in namespaces, transformed for the strategy and stamped. The
// indexes locate the objects a strategy works on (-1: none).
type layout struct {
	objs     []object
	workload int
	service  int
	route    int
	stamp    stamp
	strategy spec.StrategyKind
	// base is the workload's name in Git, which blue/green suffixes.
	base string
}

// buildLayout builds the layout of target at revision.
func buildLayout(cl *cluster, d *reconcile.Deployment, target *spec.RenderedTarget, revision string) (*layout, error) {
	objs, err := decodeManifests(target.Manifests)
	if err != nil {
		return nil, reconcile.Stalled(err)
	}
	if err := refuseReserved(objs); err != nil {
		return nil, err
	}
	if err := placeAll(cl, objs, d.Namespace, writeOpts{allow: d.Tenancy}); err != nil {
		return nil, err
	}
	l := &layout{objs: objs, workload: -1, service: -1, route: -1, strategy: d.Mode,
		stamp: stamp{app: d.App, env: d.Env, target: target.Name, revision: revision}}
	if err := l.transform(target.Kubernetes); err != nil {
		return nil, reconcile.Stalled(fmt.Errorf("target %s: %w", target.Name, err))
	}
	for _, o := range l.objs {
		l.stamp.apply(o.u)
	}
	return l, nil
}

// refuseReserved refuses manifests named like Jibe's own objects: an
// inventory ConfigMap (jibe-inventory-...), which the manifest would
// overwrite, forging what an application owns and prunes.
func refuseReserved(objs []object) error {
	for _, o := range objs {
		ref := o.ref()
		if ref.Group == "" && ref.Kind == "ConfigMap" && strings.HasPrefix(ref.Name, inventoryPrefix) {
			return refuse(o.where(), fmt.Errorf("ConfigMaps named %s... are Jibe's inventories, which record what each application applied and prunes; rename this ConfigMap", inventoryPrefix))
		}
	}
	return nil
}

// placeAll gives namespaced objects without a namespace the default one,
// removes the namespace of cluster-scoped objects, and admits each object
// by w's tenancy: nothing is written unless every object is admitted.
func placeAll(cl *cluster, objs []object, namespace string, w writeOpts) error {
	for _, o := range objs {
		ns, err := cl.namespaced(o, objs)
		if err != nil {
			return err
		}
		switch {
		case !ns:
			o.u.SetNamespace("")
		case o.u.GetNamespace() == "":
			o.u.SetNamespace(namespace)
		}
		if err := w.admit(o.where(), o.ref(), ns); err != nil {
			return err
		}
	}
	return nil
}

// transform applies the strategy's changes to the final objects.
func (l *layout) transform(k *spec.KubernetesTarget) error {
	switch l.strategy {
	case spec.StrategyCanary:
		return l.canaryRoles(k)
	case spec.StrategyBlueGreen:
		return l.blueGreenRoles(k)
	}
	return nil
}

// canaryRoles finds the workload and, with an HTTPRoute, the route and the
// stable Service, whose pods it marks stable.
func (l *layout) canaryRoles(k *spec.KubernetesTarget) error {
	var err error
	if l.workload, err = findObject(l.objs, "Deployment", k.Workload, "workload"); err != nil || k.HTTPRoute == "" {
		return err
	}
	if l.service, err = findObject(l.objs, "Service", k.Service, "service"); err != nil {
		return err
	}
	if l.route, err = findObject(l.objs, "HTTPRoute", k.HTTPRoute, "httpRoute"); err != nil {
		return err
	}
	markStable(l.objs[l.workload].u, l.objs[l.service].u)
	return nil
}

// blueGreenRoles finds the workload and Service and versions them.
func (l *layout) blueGreenRoles(k *spec.KubernetesTarget) error {
	var err error
	if l.workload, err = findObject(l.objs, "Deployment", k.Workload, "workload"); err != nil {
		return err
	}
	if l.service, err = findObject(l.objs, "Service", k.Service, "service"); err != nil {
		return err
	}
	l.base = l.objs[l.workload].u.GetName()
	versionWorkload(l.objs[l.workload].u, l.objs[l.service].u)
	return nil
}

// markStable labels the stable pods jibe.dev/track=stable and narrows the
// Service to them, so that an HTTPRoute's weights split traffic exactly
// between the stable and canary Services.
func markStable(workload, service *unstructured.Unstructured) {
	addLabels(workload, map[string]string{LabelTrack: string(trackStable)}, "spec", "template", "metadata", "labels")
	addLabels(service, map[string]string{LabelTrack: string(trackStable)}, "spec", "selector")
}

// versionWorkload renames a blue/green workload after its pod template's
// hash, which its pods carry as jibe.dev/version and the Service selects.
func versionWorkload(workload, service *unstructured.Unstructured) {
	tmpl, _, _ := unstructured.NestedMap(workload.Object, "spec", "template")
	version := hashObject(&unstructured.Unstructured{Object: tmpl})[:10]
	v := map[string]string{LabelVersion: version}
	workload.SetName(workload.GetName() + "-" + version)
	addLabels(workload, v, "spec", "template", "metadata", "labels")
	addLabels(workload, v, "spec", "selector", "matchLabels")
	addLabels(service, v, "spec", "selector")
}

// addLabels merges labels into the string map at fields.
func addLabels(u *unstructured.Unstructured, labels map[string]string, fields ...string) {
	m, _, _ := unstructured.NestedStringMap(u.Object, fields...)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, labels)
	_ = unstructured.SetNestedStringMap(u.Object, m, fields...)
}

// without returns objs minus the object at each index (negative ones are
// ignored).
func without(objs []object, idx ...int) []object {
	out := make([]object, 0, len(objs))
	for i, o := range objs {
		skip := false
		for _, j := range idx {
			skip = skip || i == j
		}
		if !skip {
			out = append(out, o)
		}
	}
	return out
}

// restamp re-stamps derived objects (copies changed after stamping).
func (l *layout) restamp(objs ...object) []object {
	for _, o := range objs {
		l.stamp.apply(o.u)
	}
	return objs
}
