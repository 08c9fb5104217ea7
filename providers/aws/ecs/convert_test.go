package ecs

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// readFixture decodes a testdata file into v, rejecting unknown fields so
// that the fixture stays in the spec's shape.
func readFixture(t *testing.T, name string, v any) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// assertAllSet fails for every field of v (recursively, first element of
// lists) left at its zero value, so that the round-trip fixtures cover
// every field the spec allows, including ones added later.
func assertAllSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			t.Errorf("fixture leaves %s unset", path)
			return
		}
		assertAllSet(t, path, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				assertAllSet(t, path+"."+f.Name, v.Field(i))
			}
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			t.Errorf("fixture leaves %s empty", path)
		} else if v.Kind() == reflect.Slice {
			assertAllSet(t, path+"[0]", v.Index(0))
		}
	default:
		if v.IsZero() {
			t.Errorf("fixture leaves %s zero", path)
		}
	}
}

func TestEveryTaskDefinitionFieldRoundTripsThroughTheSDK(t *testing.T) {
	var td spec.ECSTaskDefinition
	readFixture(t, "taskdef-full.json", &td)
	assertAllSet(t, "taskDefinition", reflect.ValueOf(td))
	d := &reconcile.Deployment{App: "shop", Env: "prod", Revision: "abc"}
	in, err := registerInput(d, &td)
	if err != nil {
		t.Fatal(err)
	}
	var back spec.ECSTaskDefinition
	if err := apidiff.Recode(in, &back); err != nil {
		t.Fatal(err)
	}
	back.Tags = userTags(back.Tags)
	if a, b := jsonText(t, td), jsonText(t, back); a != b {
		t.Errorf("task definition changed through RegisterTaskDefinitionInput:\n want %s\n  got %s", a, b)
	}
}

func TestEveryServiceFieldRoundTripsThroughTheSDK(t *testing.T) {
	var svc spec.ECSService
	readFixture(t, "service-full.json", &svc)
	assertAllSet(t, "service", reflect.ValueOf(svc))
	d := &reconcile.Deployment{App: "shop", Env: "prod", Revision: "abc"}
	in, err := createInput(d, &svc, svc.ServiceName, "api:1", *svc.DesiredCount)
	if err != nil {
		t.Fatal(err)
	}
	var back spec.ECSService
	if err := apidiff.Recode(in, &back); err != nil {
		t.Fatal(err)
	}
	back.Tags = userTags(back.Tags)
	if a, b := jsonText(t, svc), jsonText(t, back); a != b {
		t.Errorf("service changed through CreateServiceInput:\n want %s\n  got %s", a, b)
	}
	// Every field UpdateService has is carried too.
	up, err := updateInput(&svc, svc.ServiceName, "api:1", svc.DesiredCount)
	if err != nil {
		t.Fatal(err)
	}
	var fromUpdate spec.ECSService
	if err := apidiff.Recode(up, &fromUpdate); err != nil {
		t.Fatal(err)
	}
	want := svc
	// UpdateService cannot change these (see replaceFields) or takes the
	// service by another field name.
	want.ServiceName, want.LaunchType, want.SchedulingStrategy, want.Tags = "", "", "", nil
	if a, b := jsonText(t, want), jsonText(t, fromUpdate); a != b {
		t.Errorf("service changed through UpdateServiceInput:\n want %s\n  got %s", a, b)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
