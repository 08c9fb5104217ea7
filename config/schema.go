package config

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

// SchemaFile is the schema's file name under docs/schema.
const SchemaFile = "agent-config.schema.json"

// Schema returns the JSON Schema of the agent configuration, generated from
// this package's types and their doc comments.
func Schema() ([]byte, error) {
	return schemagen.Generate(&Config{}, source, "https://jibe.dev/schema/v1alpha1/"+SchemaFile)
}

// Reference returns the Markdown field reference of the agent
// configuration, generated from the same types and comments as Schema.
func Reference() ([]byte, error) {
	s, err := schemagen.Reflect(&Config{}, source)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	schemagen.Markdown(&b, s)
	return b.Bytes(), nil
}
