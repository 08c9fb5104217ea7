package config_test

import (
	"path/filepath"
	"testing"

	"github.com/jibe-dev/jibe/config"
)

// docs/schema/agent-config.schema.json is exactly what `jibe schema config`
// prints.
func TestSchemaIsCurrent(t *testing.T) {
	got, err := config.Schema()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("..", "docs", "schema", config.SchemaFile), string(got))
}
