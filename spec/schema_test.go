package spec_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/jibe-dev/jibe/spec"
)

// The schemas in docs/schema are what editors validate specs with: they
// must be exactly what `jibe schema` prints.
func TestSchemasAreCurrent(t *testing.T) {
	for name, s := range spec.Schemas {
		got, err := spec.Schema(name)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, filepath.Join("..", "docs", "schema", s.File), string(got))
	}
}

// The schema agrees with the decoder: every valid example passes it, and a
// document with an unknown field fails it.
func TestSchemaAcceptsExamples(t *testing.T) {
	c := jsonschema.NewCompiler()
	schemas := map[string]*jsonschema.Schema{}
	for name, s := range spec.Schemas {
		raw, err := spec.Schema(name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(s.File, doc); err != nil {
			t.Fatal(err)
		}
		if schemas[name], err = c.Compile(s.File); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, dir := range []string{"../examples/ecs-web", "../examples/lambda-api", "../examples/k8s-guestbook", "testdata/valid/minimal"} {
		validateYAML(t, schemas["application"], filepath.Join(dir, "jibe.yaml"), true)
	}
	validateYAML(t, schemas["ecs-task-definition"], "testdata/schema/taskdef.yaml", true)
	validateYAML(t, schemas["ecs-service"], "testdata/schema/service.yaml", true)
	validateYAML(t, schemas["lambda-function"], "testdata/schema/function.yaml", true)
	validateYAML(t, schemas["application"], "testdata/schema/unknown-field.yaml", false)
}

func validateYAML(t *testing.T, s *jsonschema.Schema, file string, valid bool) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	err = s.Validate(doc)
	if valid && err != nil {
		t.Errorf("%s does not match the schema: %v", file, err)
	}
	if !valid && err == nil {
		t.Errorf("%s matches the schema but must not", file)
	}
}
