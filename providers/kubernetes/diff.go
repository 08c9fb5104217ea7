package kubernetes

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jibe-dev/jibe/reconcile"
)

// maxValueLen bounds the length of a value shown in a field change.
const maxValueLen = 200

// sensitive replaces the values of Secret data in field changes.
const sensitive = "(sensitive)"

// hashObject returns a short hash of u's content.
func hashObject(u *unstructured.Unstructured) string {
	raw, _ := json.Marshal(u.Object) // Maps marshal with sorted keys.
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// diffObject compares a desired object with its live version (nil when it
// does not exist) and returns the change, or nil when they agree. Only the
// fields present in desired are compared, so defaults and fields the
// server or other managers set never show; a field removed from Git shows
// through the desired-hash annotation.
func diffObject(target string, desired object, live *unstructured.Unstructured) *reconcile.Change {
	change := &reconcile.Change{Target: target, Resource: desired.ref().String()}
	if live == nil {
		change.Action = reconcile.ActionCreate
		return change
	}
	want := comparable(desired.u)
	fields := compareValue("", want.Object, live.Object)
	if desired.u.GetKind() == "Secret" {
		for i := range fields {
			fields[i].Live, fields[i].Desired = redact(fields[i].Live), redact(fields[i].Desired)
		}
	}
	change.Action, change.Fields = reconcile.ActionUpdate, fields
	if len(fields) > 0 {
		return change
	}
	if live.GetAnnotations()[AnnotationDesiredHash] != desired.u.GetAnnotations()[AnnotationDesiredHash] {
		change.Reason = "the manifest changed without changing a live value: a field was removed or set to its default"
		return change
	}
	return nil
}

// redact hides a Secret value, keeping whether it is set.
func redact(v string) string {
	if v == "" {
		return ""
	}
	return sensitive
}

// comparable returns the part of desired that live state is compared
// with: labels, annotations (but Jibe's bookkeeping ones) and the content
// below metadata, with a Secret's stringData folded into data.
func comparable(desired *unstructured.Unstructured) *unstructured.Unstructured {
	u := desired.DeepCopy()
	meta := map[string]any{}
	if l, ok := u.Object["metadata"].(map[string]any)["labels"]; ok {
		meta["labels"] = l
	}
	a := u.GetAnnotations()
	delete(a, AnnotationRevision)
	delete(a, AnnotationDesiredHash)
	if len(a) > 0 {
		meta["annotations"] = toAny(a)
	}
	u.Object["metadata"] = meta
	delete(u.Object, "status")
	if u.GetKind() == "Secret" {
		foldStringData(u)
	}
	return u
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// foldStringData moves a Secret's write-only stringData into data, as the
// API server does.
func foldStringData(u *unstructured.Unstructured) {
	sd, _, _ := unstructured.NestedStringMap(u.Object, "stringData")
	if len(sd) == 0 {
		return
	}
	data, _ := u.Object["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	u.Object["data"] = data
	delete(u.Object, "stringData")
}

// compareValue returns the fields of want (at path) whose value in live
// differs.
func compareValue(path string, want, live any) []reconcile.FieldChange {
	switch w := want.(type) {
	case nil:
		return nil
	case map[string]any:
		l, _ := live.(map[string]any)
		var out []reconcile.FieldChange
		for _, k := range sortedKeys(w) {
			out = append(out, compareValue(joinPath(path, k), w[k], l[k])...)
		}
		return out
	case []any:
		return compareList(path, w, live)
	}
	if scalarEqual(path, want, live) {
		return nil
	}
	return []reconcile.FieldChange{{Path: path, Live: render(live), Desired: render(want)}}
}

// compareList compares lists element by element when their lengths agree,
// else as a whole.
func compareList(path string, want []any, live any) []reconcile.FieldChange {
	l, _ := live.([]any)
	if len(want) == 0 && len(l) == 0 {
		return nil
	}
	if len(want) != len(l) {
		return []reconcile.FieldChange{{Path: path, Live: render(live), Desired: render(want)}}
	}
	var out []reconcile.FieldChange
	for i := range want {
		out = append(out, compareValue(fmt.Sprintf("%s[%d]", path, i), want[i], l[i])...)
	}
	return out
}

// scalarEqual compares two scalars, numbers by value and resource
// quantities ("500m" and "0.5") by amount.
func scalarEqual(path string, want, live any) bool {
	if reflect.DeepEqual(want, live) {
		return true
	}
	wf, wok := number(want)
	lf, lok := number(live)
	if wok && lok {
		return wf == lf
	}
	if !quantityPath(path) {
		return false
	}
	wq, err1 := quantity(want)
	lq, err2 := quantity(live)
	return err1 == nil && err2 == nil && wq.Cmp(lq) == 0
}

// quantity parses a resource quantity written as a string or a number.
func quantity(v any) (resource.Quantity, error) {
	if f, ok := number(v); ok {
		return resource.ParseQuantity(strconv.FormatFloat(f, 'f', -1, 64))
	}
	s, _ := v.(string)
	return resource.ParseQuantity(s)
}

// quantityPath reports whether a field holds resource quantities.
func quantityPath(path string) bool {
	for _, s := range []string{"resources", "requests", "limits", "capacity", "hard", "storage"} {
		if strings.Contains(path, s) {
			return true
		}
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// joinPath appends a map key to a path, bracketing keys with dots or
// slashes (labels, annotations).
func joinPath(path, key string) string {
	if strings.ContainsAny(key, "./") {
		return path + "[" + key + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// render shows a value in a field change; absent values render empty.
func render(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case string:
		return s
	case int64:
		return strconv.FormatInt(s, 10)
	}
	raw, _ := json.Marshal(v)
	if len(raw) > maxValueLen {
		return string(raw[:maxValueLen]) + "…"
	}
	return string(raw)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
