// Package schemagen generates JSON Schemas from Go types, taking
// descriptions from the types' doc comments.
//
// The comments are read from the Go source of the types' package, which the
// package embeds, so a built binary prints the same schema as the source tree
// and the two can never drift apart.
package schemagen

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// Generate returns the indented JSON Schema of v's type, identified by id.
// src holds the Go files of the package that declares the types; their doc
// comments become descriptions.
func Generate(v any, src fs.FS, id string) ([]byte, error) {
	s, err := Reflect(v, src)
	if err != nil {
		return nil, err
	}
	s.ID = jsonschema.ID(id)
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding schema: %w", err)
	}
	return append(out, '\n'), nil
}

// Reflect returns the JSON Schema of v's type, with descriptions from the
// doc comments in src.
func Reflect(v any, src fs.FS) (*jsonschema.Schema, error) {
	comments, err := readComments(src)
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		RequiredFromJSONSchemaTags: true,
		AllowAdditionalProperties:  false,
		LookupComment: func(t reflect.Type, field string) string {
			key := t.Name()
			if field != "" {
				key += "." + field
			}
			return comments[key]
		},
	}
	return r.Reflect(v), nil
}

// readComments maps "Type" and "Type.Field" to their doc comments.
func readComments(src fs.FS) (map[string]string, error) {
	files, err := fs.Glob(src, "*.go")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := fs.ReadFile(src, name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, name, data, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", name, err)
		}
		collectComments(f, out)
	}
	return out, nil
}

func collectComments(f *ast.File, out map[string]string) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil {
				doc = gd.Doc
			}
			out[ts.Name.Name] = clean(doc)
			if st, ok := ts.Type.(*ast.StructType); ok {
				collectFields(ts.Name.Name, st, out)
			}
		}
	}
}

func collectFields(typeName string, st *ast.StructType, out map[string]string) {
	for _, field := range st.Fields.List {
		for _, name := range field.Names {
			out[typeName+"."+name.Name] = clean(field.Doc)
		}
	}
}

// clean turns a doc comment into one paragraph of text.
func clean(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.Join(strings.Fields(g.Text()), " ")
}
