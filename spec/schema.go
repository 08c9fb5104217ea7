package spec

import (
	"bytes"
	"embed"

	"github.com/jibe-dev/jibe/internal/schemagen"
)

// source holds this package's Go files, whose doc comments describe the
// schema's fields.
//
//go:embed *.go
var source embed.FS

// Schemas are the documents Schema can describe, by name.
var Schemas = map[string]struct {
	Value any
	// File is the schema's file name under docs/schema.
	File string
}{
	"application":         {&Application{}, "application.schema.json"},
	"ecs-task-definition": {&ECSTaskDefinition{}, "ecs-task-definition.schema.json"},
	"ecs-service":         {&ECSService{}, "ecs-service.schema.json"},
	"lambda-function":     {&LambdaFunction{}, "lambda-function.schema.json"},
}

// SchemaBaseURL is where the schemas are published.
const SchemaBaseURL = "https://jibe.dev/schema/v1alpha1/"

// Schema returns the JSON Schema of the named document (a key of Schemas),
// generated from this package's types and their doc comments.
func Schema(name string) ([]byte, error) {
	s := Schemas[name]
	return schemagen.Generate(s.Value, source, SchemaBaseURL+s.File)
}

// Reference returns the Markdown field reference of the named document (a
// key of Schemas), generated from the same types and comments as Schema.
func Reference(name string) ([]byte, error) {
	s, err := schemagen.Reflect(Schemas[name].Value, source)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	schemagen.Markdown(&b, s)
	return b.Bytes(), nil
}
