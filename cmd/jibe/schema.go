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
	var reference bool
	cmd := &cobra.Command{
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
			out, err := schema(name, reference)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&reference, "reference", false, "print a Markdown field reference instead of the JSON Schema")
	return cmd
}

func schema(name string, reference bool) ([]byte, error) {
	switch _, isSpec := spec.Schemas[name]; {
	case name == "config" && reference:
		return config.Reference()
	case name == "config":
		return config.Schema()
	case isSpec && reference:
		return spec.Reference(name)
	case isSpec:
		return spec.Schema(name)
	}
	return nil, fmt.Errorf("no schema named %q; choose one of %s", name, strings.Join(schemaNames(), ", "))
}
