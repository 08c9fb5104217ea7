package spec

import (
	"reflect"
	"testing"
)

// A deep copy shares nothing with its original: changing every string,
// map and list of the copy leaves the original as it was.
func TestDeepCopySharesNothing(t *testing.T) {
	type inner struct {
		Name  string
		Tags  map[string]string
		Items []string
		Any   any
	}
	type outer struct {
		P      *inner
		S      []inner
		M      map[string]*inner
		Any    any
		hidden int
	}
	orig := outer{
		P:      &inner{Name: "p", Tags: map[string]string{"k": "v"}, Items: []string{"a"}, Any: map[string]any{"x": []any{"y"}}},
		S:      []inner{{Name: "s", Items: []string{"b"}}},
		M:      map[string]*inner{"m": {Name: "m"}},
		Any:    []any{map[string]any{"z": "w"}},
		hidden: 7,
	}
	want := deepCopy(orig)
	if !reflect.DeepEqual(orig, want) {
		t.Fatalf("copy differs: %+v", want)
	}
	c := deepCopy(orig)
	c.P.Name, c.P.Tags["k"], c.P.Items[0] = "X", "X", "X"
	c.P.Any.(map[string]any)["x"].([]any)[0] = "X"
	c.S[0].Items[0], c.M["m"].Name = "X", "X"
	c.Any.([]any)[0].(map[string]any)["z"] = "X"
	if !reflect.DeepEqual(orig, want) {
		t.Errorf("changing the copy changed the original: %+v", orig)
	}
}
