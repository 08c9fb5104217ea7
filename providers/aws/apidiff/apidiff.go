// Package apidiff diffs API-shaped documents (what an AWS API returns and
// takes: task definitions, services, scaling policies…) field by field.
//
// Diffing is pure: normalised desired and live values are flattened into
// path → value maps (lists of named items keyed by name, as in
// containerDefinitions[web].image) and compared. Empty values, false and
// zero count as absent, so that an omitted field equals the API's zero
// value.
package apidiff

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jibe-dev/jibe/reconcile"
)

// Fields returns the fields that differ between live and desired, in
// path order, each path prefixed with prefix. Both are marshalled to JSON
// first; an error means one could not be.
func Fields(prefix string, live, desired any) ([]reconcile.FieldChange, error) {
	l, err := flatten(live)
	if err != nil {
		return nil, err
	}
	d, err := flatten(desired)
	if err != nil {
		return nil, err
	}
	var out []reconcile.FieldChange
	for _, path := range slices.Sorted(maps.Keys(union(l, d))) {
		if l[path] != d[path] {
			out = append(out, reconcile.FieldChange{Path: prefix + path, Live: l[path], Desired: d[path]})
		}
	}
	return out, nil
}

func union(a, b map[string]string) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// flatten returns v's leaves by path.
func flatten(v any) (map[string]string, error) {
	out := map[string]string{}
	if v == nil {
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("flatten %T: %w", v, err)
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return nil, fmt.Errorf("flatten %T: %w", v, err)
	}
	walk("", tree, out)
	return out, nil
}

// walk adds the leaves under node to out.
func walk(path string, node any, out map[string]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			walk(join(path, k), v, out)
		}
	case []any:
		for i, v := range n {
			walk(path+"["+itemKey(i, v)+"]", v, out)
		}
	case nil, bool, float64, string:
		if s := leaf(n); s != "" {
			out[path] = s
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// itemKey names a list item by its name (containers, variables, volumes),
// key (tags) or containerName, else by its index.
func itemKey(i int, v any) string {
	if m, ok := v.(map[string]any); ok {
		for _, k := range []string{"name", "key", "containerName"} {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
	}
	return fmt.Sprint(i)
}

// leaf renders a scalar; "" for values that count as absent.
func leaf(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "true"
		}
	case float64:
		if x != 0 {
			return fmt.Sprint(x)
		}
	case string:
		return x
	}
	return ""
}

// Recode converts between shapes with the same JSON field names: the spec
// files use the AWS APIs' names, SDK structs have no tags, and
// encoding/json matches names case-insensitively.
func Recode(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return fmt.Errorf("encode %T: %w", from, err)
	}
	if err := json.Unmarshal(b, to); err != nil {
		return fmt.Errorf("decode %T into %T: %w", from, to, err)
	}
	return nil
}
