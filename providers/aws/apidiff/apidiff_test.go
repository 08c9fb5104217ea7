package apidiff

import (
	"reflect"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

type container struct {
	Name        string            `json:"name"`
	Image       string            `json:"image,omitempty"`
	Essential   bool              `json:"essential,omitempty"`
	CPU         int               `json:"cpu,omitempty"`
	Environment []map[string]any  `json:"environment,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
}

type doc struct {
	Containers []container `json:"containerDefinitions"`
	Ports      []int       `json:"ports,omitempty"`
}

// Named list items are keyed by name, scalars by index; zero values count
// as absent.
func TestFields(t *testing.T) {
	live := doc{Containers: []container{
		{Name: "web", Image: "shop/web:v1", Essential: false, Environment: []map[string]any{{"name": "A", "value": "1"}}},
		{Name: "log", Image: "fluent-bit"},
	}, Ports: []int{80}}
	desired := doc{Containers: []container{
		{Name: "log", Image: "fluent-bit", CPU: 0},
		{Name: "web", Image: "shop/web:v2", Environment: []map[string]any{{"name": "A", "value": "2"}}, Options: map[string]string{"k": "v"}},
	}, Ports: []int{80, 443}}
	got, err := Fields("taskDefinition.", live, desired)
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.FieldChange{
		{Path: "taskDefinition.containerDefinitions[web].environment[A].value", Live: "1", Desired: "2"},
		{Path: "taskDefinition.containerDefinitions[web].image", Live: "shop/web:v1", Desired: "shop/web:v2"},
		{Path: "taskDefinition.containerDefinitions[web].options.k", Desired: "v"},
		{Path: "taskDefinition.ports[1]", Desired: "443"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if none, err := Fields("", nil, doc{}); err != nil || len(none) != 0 {
		t.Errorf("nil against an empty document: %+v, %v", none, err)
	}
	if _, err := Fields("", func() {}, nil); err == nil {
		t.Error("an unmarshalable value was diffed")
	}
}
