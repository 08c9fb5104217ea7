package kubernetes

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jibe-dev/jibe/reconcile"
)

// u decodes a YAML object as the API server's JSON would decode it
// (integers as int64).
func u(s string) *unstructured.Unstructured {
	raw, err := json.Marshal(obj(s))
	if err != nil {
		panic(err)
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(raw); err != nil {
		panic(err)
	}
	return out
}

func TestDiffObject(t *testing.T) {
	desiredDeployment := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}, annotations: {jibe.dev/revision: r2, jibe.dev/desired-hash: h1}}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: web:v2
        resources: {requests: {cpu: 500m, memory: 1Gi}}
`
	for _, tc := range []struct {
		name, desired, live string
		want                []reconcile.FieldChange
		same                bool
		reason              string
	}{{
		name:    "defaults and server fields do not show",
		desired: desiredDeployment,
		live: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: x, resourceVersion: "9", labels: {app: web, other: x}, annotations: {jibe.dev/revision: r1, jibe.dev/desired-hash: h1, deployment.kubernetes.io/revision: "3"}}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  template:
    spec:
      restartPolicy: Always
      containers:
      - name: web
        image: web:v2
        imagePullPolicy: IfNotPresent
        resources: {requests: {cpu: "0.5", memory: 1073741824}}
status: {replicas: 2}
`,
		same: true,
	}, {
		name:    "changed fields show with both values",
		desired: desiredDeployment,
		live: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: api}, annotations: {jibe.dev/desired-hash: h0}}
spec:
  replicas: 3
  template: {spec: {containers: [{name: web, image: web:v1, resources: {requests: {cpu: 500m, memory: 1Gi}}}]}}
`,
		want: []reconcile.FieldChange{
			{Path: "metadata.labels.app", Live: "api", Desired: "web"},
			{Path: "spec.replicas", Live: "3", Desired: "2"},
			{Path: "spec.template.spec.containers[0].image", Live: "web:v1", Desired: "web:v2"},
		},
	}, {
		name:    "a list of another length shows whole",
		desired: `{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {ports: [{port: 80}, {port: 81}]}}`,
		live:    `{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {ports: [{port: 80, protocol: TCP}]}}`,
		want:    []reconcile.FieldChange{{Path: "spec.ports", Live: `[{"port":80,"protocol":"TCP"}]`, Desired: `[{"port":80},{"port":81}]`}},
	}, {
		name:    "a removed field shows through the hash",
		desired: `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, annotations: {jibe.dev/desired-hash: h2}}, data: {a: "1"}}`,
		live:    `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, annotations: {jibe.dev/desired-hash: h1}}, data: {a: "1", b: "2"}}`,
		reason:  "field was removed",
	}, {
		name:    "secret values are hidden and stringData is folded",
		desired: `{apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {same: hello, changed: new}}`,
		live:    `{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {same: aGVsbG8=, changed: b2xk}}`,
		want:    []reconcile.FieldChange{{Path: "data.changed", Live: sensitive, Desired: sensitive}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := diffObject("web", object{u: u(tc.desired)}, u(tc.live))
			switch {
			case tc.same && c != nil:
				t.Fatalf("change = %+v, want none", c)
			case tc.same:
				return
			case c == nil:
				t.Fatal("no change")
			case c.Action != reconcile.ActionUpdate || !slices.Equal(c.Fields, tc.want) || !strings.Contains(c.Reason, tc.reason):
				t.Errorf("change = %+v\nwant fields %+v, reason %q", c, tc.want, tc.reason)
			}
		})
	}
}

func TestDiffObjectCreate(t *testing.T) {
	c := diffObject("web", object{u: u(`{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: shop}}`)}, nil)
	if c == nil || c.Action != reconcile.ActionCreate || c.Resource != "v1 ConfigMap shop/c" {
		t.Errorf("change = %+v", c)
	}
}

func TestStampHashIgnoresRevision(t *testing.T) {
	a, b := u(`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}}`), u(`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}}`)
	stamp{app: "shop", env: "prod", target: "web", revision: "r1"}.apply(a)
	stamp{app: "shop", env: "prod", target: "web", revision: "r2"}.apply(b)
	ha, hb := a.GetAnnotations()[AnnotationDesiredHash], b.GetAnnotations()[AnnotationDesiredHash]
	if ha == "" || ha != hb || b.GetAnnotations()[AnnotationRevision] != "r2" || b.GetLabels()[LabelApp] != "shop" {
		t.Errorf("stamped %v / %v", a.Object["metadata"], b.Object["metadata"])
	}
}

func TestCanaryReplicas(t *testing.T) {
	for _, tc := range []struct{ total, weight, canary, stable int64 }{
		{4, 0, 0, 4}, {4, 10, 1, 3}, {4, 25, 1, 3}, {4, 50, 2, 2}, {4, 100, 4, 0}, {10, 33, 4, 6}, {1, 1, 1, 0},
	} {
		c, s := canaryReplicas(tc.total, tc.weight)
		if c != tc.canary || s != tc.stable {
			t.Errorf("canaryReplicas(%d, %d) = %d, %d; want %d, %d", tc.total, tc.weight, c, s, tc.canary, tc.stable)
		}
	}
}

func TestSplitBackends(t *testing.T) {
	rule := obj(`{backendRefs: [{name: web, port: 80}, {name: web-canary, port: 80, weight: 5}, {name: other, port: 80}]}`)
	refs, ok := splitBackends(rule, "web", 30)
	if !ok {
		t.Fatal("the rule sends to web")
	}
	got := render(refs)
	want := `[{"name":"web","port":80,"weight":70},{"name":"web-canary","port":80,"weight":30},{"name":"other","port":80}]`
	if got != want {
		t.Errorf("backendRefs = %s\nwant %s", got, want)
	}
	if _, ok := splitBackends(obj(`{backendRefs: [{name: other}]}`), "web", 30); ok {
		t.Error("a rule without web reported as sending to it")
	}
}

func TestInventorySets(t *testing.T) {
	ns := objectRef{Version: "v1", Kind: "Namespace", Name: "shop"}
	web := objectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	webV2 := web
	webV2.Version = "v2"
	cm := objectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "old"}

	if got := minus([]objectRef{web, cm}, []objectRef{webV2}); !slices.Equal(got, []objectRef{cm}) {
		t.Errorf("minus ignores versions: got %v", got)
	}
	if got := union([]objectRef{web, cm}, []objectRef{webV2, ns}); !slices.Equal(got, []objectRef{ns, cm, webV2}) {
		t.Errorf("union = %v, want the namespace first and v2 kept", got)
	}
	if got := deleteOrder([]objectRef{ns, web}); got[0] != web {
		t.Errorf("delete order = %v, want the namespace last", got)
	}
	inv := inventory{Objects: []objectRef{ns, web}, Retained: []objectRef{cm}, Revision: "r1"}
	cmObj, err := inv.configMap("shop", "jibe-inventory-shop-prod-web", stamp{app: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeInventory(cmObj)
	if err != nil || !slices.Equal(back.Objects, inv.Objects) || !slices.Equal(back.Retained, inv.Retained) || back.Revision != "r1" {
		t.Errorf("inventory round trip = %+v, %v", back, err)
	}
}

func TestDescribeConflicts(t *testing.T) {
	s := metav1.Status{Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl" using apps/v1`, Field: ".spec.replicas"},
	}}}
	if got, want := describeConflicts(s), `field conflicts: .spec.replicas is managed by "kubectl" using apps/v1`; got != want {
		t.Errorf("describeConflicts = %q, want %q", got, want)
	}
}

func TestFindObject(t *testing.T) {
	objs := []object{{u: u(`{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}}`)},
		{u: u(`{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db}}`)},
		{u: u(`{apiVersion: apps/v1, kind: Deployment, metadata: {name: worker}}`)}}
	for _, tc := range []struct {
		ref     string
		want    int
		problem string
	}{
		{"Deployment/worker", 2, ""}, {"web", 0, ""},
		{"", -1, "several Deployments"}, {"StatefulSet/db", -1, "must name a Deployment"}, {"Deployment/api", -1, "names no object"},
	} {
		i, err := findObject(objs, "Deployment", tc.ref, "workload")
		if i != tc.want || (err == nil) != (tc.problem == "") || (err != nil && !strings.Contains(err.Error(), tc.problem)) {
			t.Errorf("findObject(%q) = %d, %v; want %d, %q", tc.ref, i, err, tc.want, tc.problem)
		}
	}
}
