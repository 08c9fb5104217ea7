package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/spec"
)

// schemaNames lists the documents `jibe schema` describes.
func schemaNames() []string {
	names := []string{"config"}
	for name := range spec.Schemas {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func newSchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema [NAME]",
		Short: "Print the JSON Schema of a Jibe file",
		Long: `Print the JSON Schema of a Jibe file, for editors and CI to validate against.

NAME is one of: ` + strings.Join(schemaNames(), ", ") + `.
The default is application (jibe.yaml). The same schemas are in docs/schema.

For example, with the YAML language server, put this first in jibe.yaml:
  # yaml-language-server: $schema=https://jibe.dev/schema/v1alpha1/application.schema.json`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: schemaNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "application"
			if len(args) == 1 {
				name = args[0]
			}
			out, err := schema(name)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
}

func schema(name string) ([]byte, error) {
	if name == "config" {
		return config.Schema()
	}
	if _, ok := spec.Schemas[name]; ok {
		return spec.Schema(name)
	}
	return nil, fmt.Errorf("no schema named %q; choose one of %s", name, strings.Join(schemaNames(), ", "))
}
