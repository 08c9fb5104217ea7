package kubecheck

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// GatewayAPIVersion is the Gateway API release whose types the checks
// follow: that of the sigs.k8s.io/gateway-api module Jibe is built with.
const GatewayAPIVersion = "v1.5"

// gatewayGroup is the Gateway API's group, whose routes Jibe shifts.
const gatewayGroup = "gateway.networking.k8s.io"

// scheme knows the built-in API types (client-go's scheme) and the
// Gateway API's standard types, which canaries use.
var scheme = newScheme()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, gatewayv1.Install, gatewayv1beta1.Install} {
		if err := add(s); err != nil {
			panic(err) // the generated registrations do not fail
		}
	}
	return s
}

// builtinGroup reports whether the checks know the types of group: one
// of Kubernetes' built-in API groups, or the Gateway API's.
func builtinGroup(group string) bool {
	return scheme.IsGroupRegistered(group)
}

// apiName names the API that defines group's types, for messages.
func apiName(group string) string {
	if group == gatewayGroup {
		return "Gateway API " + GatewayAPIVersion
	}
	return "Kubernetes " + KubernetesVersion
}

// lifecycle is what the generated API types say of their versions.
type lifecycle interface {
	APILifecycleRemoved() (major, minor int)
	APILifecycleReplacement() schema.GroupVersionKind
}

// deprecation is what deprecated API types say of their versions.
type deprecation interface {
	APILifecycleDeprecated() (major, minor int)
}

// checkBuiltin checks an object of a built-in group against its type.
func checkBuiltin(o *objReport, gvk schema.GroupVersionKind) {
	obj, err := scheme.New(gvk)
	if err != nil {
		unservedBuiltin(o, gvk)
		return
	}
	if !checkLifecycle(o, gvk, obj) {
		return
	}
	w := typedWalker{o: o, what: gvk.GroupVersion().String() + " " + gvk.Kind}
	w.value(o.doc.Node, reflectType(obj), "")
}

// checkLifecycle refuses an API version the supported Kubernetes no
// longer serves and warns of a deprecated one. It reports whether the
// object is worth checking further.
func checkLifecycle(o *objReport, gvk schema.GroupVersionKind, obj runtime.Object) bool {
	node := valueNode(o.doc.Node, "apiVersion")
	if l, ok := obj.(lifecycle); ok {
		if major, minor := l.APILifecycleRemoved(); major == 1 && minor <= kubernetesMinor {
			o.errorf(node, "apiVersion", "%s %s is no longer served since Kubernetes %d.%d (this is %s); %s",
				gvk.GroupVersion(), gvk.Kind, major, minor, KubernetesVersion, replacement(l.APILifecycleReplacement(), gvk))
			return false
		}
	}
	if d, ok := obj.(deprecation); ok {
		if major, minor := d.APILifecycleDeprecated(); major == 1 && minor <= kubernetesMinor {
			msg := "it will be removed in a later release"
			if l, ok := obj.(lifecycle); ok {
				rm, rn := l.APILifecycleRemoved()
				msg = fmt.Sprintf("Kubernetes %d.%d stops serving it; %s", rm, rn, replacement(l.APILifecycleReplacement(), gvk))
			}
			o.warnf(node, "apiVersion", "%s %s is deprecated since Kubernetes %d.%d: %s", gvk.GroupVersion(), gvk.Kind, major, minor, msg)
		}
	}
	return true
}

// replacement says what to use instead of gvk.
func replacement(r, gvk schema.GroupVersionKind) string {
	if r.Empty() {
		versions := servedVersions(gvk.GroupKind())
		if len(versions) == 0 {
			return "move to the API that replaced it"
		}
		return "use apiVersion " + versions[0]
	}
	if r.Kind != gvk.Kind {
		return fmt.Sprintf("use apiVersion %s, kind %s", r.GroupVersion(), r.Kind)
	}
	return "use apiVersion " + r.GroupVersion().String()
}

// unservedBuiltin reports an apiVersion and kind of a built-in group
// that the scheme does not know: a version that does not serve the kind,
// or a kind the group does not have.
func unservedBuiltin(o *objReport, gvk schema.GroupVersionKind) {
	if versions := servedVersions(gvk.GroupKind()); len(versions) > 0 {
		o.errorf(valueNode(o.doc.Node, "apiVersion"), "apiVersion", "%s does not serve %s in %s; use apiVersion %s",
			gvk.GroupVersion(), gvk.Kind, apiName(gvk.Group), strings.Join(versions, " or "))
		return
	}
	kinds := groupKinds(gvk.GroupVersion())
	msg := fmt.Sprintf("%s has no kind %q in %s", gvk.GroupVersion(), gvk.Kind, apiName(gvk.Group))
	switch s := strictyaml.Suggest(gvk.Kind, kinds); {
	case s != "":
		msg += fmt.Sprintf("; did you mean %q?", s)
	case len(kinds) == 0:
		msg = fmt.Sprintf("%s has no API version %s; check apiVersion against the kind's documentation", apiName(gvk.Group), gvk.GroupVersion())
		o.errorf(valueNode(o.doc.Node, "apiVersion"), "apiVersion", "%s", msg)
		return
	default:
		msg += "; check the kind against the API reference"
	}
	o.errorf(valueNode(o.doc.Node, "kind"), "kind", "%s", msg)
}

// servedVersions returns the versions that serve gk, preferred first
// (stable before beta before alpha), leaving out removed ones.
func servedVersions(gk schema.GroupKind) []string {
	var out []string
	for _, gv := range scheme.VersionsForGroupKind(gk) {
		obj, err := scheme.New(gv.WithKind(gk.Kind))
		if err != nil {
			continue
		}
		if l, ok := obj.(lifecycle); ok {
			if major, minor := l.APILifecycleRemoved(); major == 1 && minor <= kubernetesMinor {
				continue
			}
		}
		out = append(out, gv.String())
	}
	slices.SortStableFunc(out, func(a, b string) int { return versionRank(a) - versionRank(b) })
	return out
}

// versionRank orders stable versions before beta and alpha ones.
func versionRank(gv string) int {
	switch {
	case strings.Contains(gv, "alpha"):
		return 2
	case strings.Contains(gv, "beta"):
		return 1
	}
	return 0
}

// groupKinds returns the kinds the scheme knows in gv, without lists
// and options.
func groupKinds(gv schema.GroupVersion) []string {
	var out []string
	for kind := range scheme.KnownTypes(gv) {
		if !strings.HasSuffix(kind, "List") && !strings.HasSuffix(kind, "Options") && kind != "WatchEvent" && kind != "Status" {
			out = append(out, kind)
		}
	}
	slices.Sort(out)
	return out
}
