// Package strictyaml decodes YAML documents into Go structs strictly and
// remembers where every value came from.
//
// Unlike yaml.Unmarshal it rejects unknown fields, duplicate keys, values of
// the wrong type and missing required fields, and it reports every problem of
// a document at once, each with its file, line, column and field path
// (for example "spec.environments[1].strategy.canary.steps[0].setWeight").
// Fields are named by their `json` struct tags, so the same types serve JSON
// Schema generation and JSON encoding; a field is required when its
// `jsonschema` tag contains "required".
package strictyaml

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Pos is a 1-based position in a YAML document. The zero Pos means unknown.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Error is one problem found in a file.
type Error struct {
	// File is the path of the file, as given to the decoder.
	File string `json:"file"`
	Pos
	// Field is the path of the offending field, empty for whole-document
	// problems.
	Field string `json:"field,omitempty"`
	// Message says what is wrong and, where it helps, what to do.
	Message string `json:"message"`
}

// Error formats e as "file:line:column: field: message", the format editors
// and CI systems link to. The column is left out when the YAML parser did
// not give one.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList is every problem found in one or more files. A nil or empty
// ErrorList means no problem; use Err to turn it into an error.
type ErrorList []*Error

// Error joins the problems, one per line, in file and position order.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil when l is empty, and l sorted otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// Sort orders the problems by file, line, column and field.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Field < b.Field
	})
}

// PathCause returns the cause of an *fs.PathError (e.g. "no such file or
// directory"), dropping the operation and path that a message naming the
// file already carries; other errors are returned as they are.
func PathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// AsList returns the problems carried by err: the list itself for an
// ErrorList, the single problem for an *Error, and nil otherwise.
func AsList(err error) ErrorList {
	var list ErrorList
	if errors.As(err, &list) {
		return list
	}
	var one *Error
	if errors.As(err, &one) {
		return ErrorList{one}
	}
	return nil
}
