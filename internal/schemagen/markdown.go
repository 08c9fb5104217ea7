package schemagen

import (
	"fmt"
	"io"
	"strings"

	"github.com/invopop/jsonschema"
)

// Markdown writes a reference of the types of s as Markdown: one section
// per type, in the order a reader meets them from the root, each with a
// table of its fields.
func Markdown(w io.Writer, s *jsonschema.Schema) {
	for _, name := range definitionOrder(s) {
		writeDefinition(w, name, s.Definitions[name])
	}
}

// definitionOrder lists the definitions reachable from the root,
// breadth first, then any others.
func definitionOrder(s *jsonschema.Schema) []string {
	var order []string
	seen := map[string]bool{}
	queue := []string{refName(s.Ref)}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		def, ok := s.Definitions[name]
		if seen[name] || !ok {
			continue
		}
		seen[name] = true
		order = append(order, name)
		queue = append(queue, references(def)...)
	}
	return order
}

// references lists the definitions a schema refers to, in field order.
func references(s *jsonschema.Schema) []string {
	var out []string
	var walk func(*jsonschema.Schema)
	walk = func(s *jsonschema.Schema) {
		if s == nil {
			return
		}
		if s.Ref != "" {
			out = append(out, refName(s.Ref))
		}
		walk(s.Items)
		walk(s.AdditionalProperties)
		if s.Properties != nil {
			for p := s.Properties.Oldest(); p != nil; p = p.Next() {
				walk(p.Value)
			}
		}
	}
	walk(s)
	return out
}

func refName(ref string) string { return strings.TrimPrefix(ref, "#/$defs/") }

func writeDefinition(w io.Writer, name string, def *jsonschema.Schema) {
	fmt.Fprintf(w, "### %s\n\n", name)
	if def.Description != "" {
		fmt.Fprintf(w, "%s\n\n", def.Description)
	}
	if def.Properties == nil || def.Properties.Len() == 0 {
		if t := typeName(def); t != "" && def.Type != "object" {
			fmt.Fprintf(w, "Written as %s.\n\n", t)
		}
		return
	}
	required := map[string]bool{}
	for _, r := range def.Required {
		required[r] = true
	}
	fmt.Fprintln(w, "| Field | Type | Description |")
	fmt.Fprintln(w, "|---|---|---|")
	for p := def.Properties.Oldest(); p != nil; p = p.Next() {
		field := "`" + p.Key + "`"
		if required[p.Key] {
			field += " (required)"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", field, typeName(p.Value), cell(p.Value.Description))
	}
	fmt.Fprintln(w)
}

// typeName describes a property's type, linking to definitions.
func typeName(s *jsonschema.Schema) string {
	switch {
	case s.Ref != "":
		name := refName(s.Ref)
		return fmt.Sprintf("[%s](#%s)", name, strings.ToLower(name))
	case s.Type == "array" && s.Items != nil:
		return "list of " + typeName(s.Items)
	case s.Type == "object" && s.AdditionalProperties != nil:
		return "map of " + typeName(s.AdditionalProperties)
	case len(s.Enum) > 0:
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprintf("`%v`", v)
		}
		return "one of " + strings.Join(vals, ", ")
	case len(s.OneOf) > 0:
		parts := make([]string, len(s.OneOf))
		for i, o := range s.OneOf {
			parts[i] = typeName(o)
		}
		return strings.Join(parts, " or ")
	}
	return s.Type
}

var cellEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return cellEscaper.Replace(s)
}
