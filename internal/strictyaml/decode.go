package strictyaml

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/internal/credential"
)

// maxNodes bounds the nodes one document may expand to, aliases included,
// so that a small file cannot make the decoder do unbounded work.
const maxNodes = 200_000

// maxDepth bounds how deeply values may nest.
const maxDepth = 100

// UnknownFieldHinter is implemented by struct types that can say more than
// "unknown field" about some names, for example that a field is set by AWS
// and must be removed from a file pasted from a describe call.
type UnknownFieldHinter interface {
	UnknownFieldHint(name string) string
}

// Redacted is implemented by types whose written values must never appear
// in messages, such as references to secrets: a user may write the secret
// itself where its reference belongs. A value of the wrong shape is
// reported without its text, followed by RedactedHint.
type Redacted interface {
	RedactedHint() string
}

// Document records where each decoded value was found in one file.
type Document struct {
	// File is the file's path as given to Decode.
	File string
	pos  map[string]Pos
}

// Pos returns the position of field, or of its nearest recorded ancestor
// when the field itself does not appear in the file.
func (d *Document) Pos(field string) Pos {
	for {
		if p, ok := d.pos[field]; ok {
			return p
		}
		if field == "" {
			return Pos{}
		}
		field = parentPath(field)
	}
}

// Has reports whether field was written in the file.
func (d *Document) Has(field string) bool {
	_, ok := d.pos[field]
	return ok
}

// Errorf returns a problem at field's position.
func (d *Document) Errorf(field, format string, args ...any) *Error {
	return &Error{File: d.File, Pos: d.Pos(field), Field: field, Message: fmt.Sprintf(format, args...)}
}

// Parse reads data as exactly one YAML document and returns its root node,
// which is never an alias or document node.
func Parse(file string, data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Message: "file is empty; expected a YAML document"}
		}
		return nil, SyntaxError(file, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Pos: Pos{Line: extra.Line, Column: extra.Column},
			Message: "file holds more than one YAML document; keep one document per file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, SyntaxError(file, data, err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: file, Message: "file is empty; expected a YAML document"}
	}
	return root.Content[0], nil
}

// Options tune a decode.
type Options struct {
	// HideValues keeps the scalars written in the file out of messages,
	// for files where a secret may be written by mistake, such as the
	// agent configuration: a problem names the field and its position,
	// and says what kind of value it found ("got a string"), never the
	// value. Mapping keys are shown unless they look like credentials
	// (internal/credential).
	HideValues bool
}

// Decode parses data as one YAML document and decodes it into v, which must
// be a non-nil pointer. It returns the document's positions and every
// problem found; v holds whatever could be decoded even when there are
// problems.
func Decode(file string, data []byte, v any) (*Document, ErrorList) {
	root, err := Parse(file, data)
	if err != nil {
		return &Document{File: file, pos: map[string]Pos{}}, ErrorList{err}
	}
	return DecodeNode(file, root, v)
}

// DecodeNode decodes an already parsed node into v, which must be a non-nil
// pointer. Callers use it to decode a tree after rewriting scalar values,
// keeping the original positions.
func DecodeNode(file string, root *yaml.Node, v any) (*Document, ErrorList) {
	return DecodeNodeWith(file, root, v, Options{})
}

// DecodeNodeWith is DecodeNode with options.
func DecodeNodeWith(file string, root *yaml.Node, v any, opts Options) (*Document, ErrorList) {
	d := &decoder{doc: &Document{File: file, pos: map[string]Pos{}}, budget: maxNodes, hide: opts.HideValues}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("strictyaml: DecodeNode needs a non-nil pointer")
	}
	d.value(root, rv.Elem(), "")
	return d.doc, d.errs
}

type decoder struct {
	doc    *Document
	errs   ErrorList
	budget int
	depth  int
	// hide keeps written values out of messages (Options.HideValues).
	hide bool
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: d.doc.File, Field: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Pos = Pos{Line: n.Line, Column: n.Column}
	}
	d.errs = append(d.errs, e)
}

// value decodes n into v, recording n's position under path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if d.budget <= 0 {
		return
	}
	d.budget--
	if d.budget == 0 {
		d.errorf(n, path, "document expands to more than %d values (too many aliases?)", maxNodes)
		return
	}
	if d.depth >= maxDepth {
		d.errorf(n, path, "values nest more than %d levels deep", maxDepth)
		d.budget = 0
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	d.doc.pos[path] = Pos{Line: n.Line, Column: n.Column}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if isNull(n) {
		v.SetZero()
		return
	}
	if r, ok := redacted(v); ok && n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping; the value written here is not shown because it may be a secret. %s", r.RedactedHint())
		return
	}
	if u, ok := textUnmarshaler(v); ok {
		d.text(n, u, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Map:
		d.mapValue(n, v, path)
	case reflect.Slice:
		d.sliceValue(n, v, path)
	case reflect.Interface:
		d.anyValue(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func redacted(v reflect.Value) (Redacted, bool) {
	if v.Kind() != reflect.Struct || !v.CanAddr() {
		return nil, false
	}
	r, ok := v.Addr().Interface().(Redacted)
	return r, ok
}

func textUnmarshaler(v reflect.Value) (encoding.TextUnmarshaler, bool) {
	if v.Kind() == reflect.Pointer || !v.CanAddr() {
		return nil, false
	}
	u, ok := v.Addr().Interface().(encoding.TextUnmarshaler)
	return u, ok
}

func (d *decoder) text(n *yaml.Node, u encoding.TextUnmarshaler, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected a string, got %s", d.kindName(n))
		return
	}
	if err := u.UnmarshalText([]byte(n.Value)); err != nil {
		d.errorf(n, path, "%s", d.withoutValue(err.Error(), n.Value))
	}
}

func (d *decoder) anyValue(n *yaml.Node, v reflect.Value, path string) {
	var x any
	if err := n.Decode(&x); err != nil {
		d.errorf(n, path, "cannot decode value: %s", d.withoutValue(err.Error(), n.Value))
		return
	}
	if x != nil {
		v.Set(reflect.ValueOf(x))
	}
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list, got %s", d.kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i), JoinIndex(path, i))
	}
	v.Set(s)
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, path string) {
	if v.Type().Key().Kind() != reflect.String {
		panic("strictyaml: map keys must be strings, in " + v.Type().String())
	}
	pairs, ok := d.pairs(n, path)
	if !ok {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(pairs))
	for _, p := range pairs {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(p.value, elem, JoinKey(path, p.key.Value))
		m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	pairs, ok := d.pairs(n, path)
	if !ok {
		return
	}
	info := structInfoOf(v.Type())
	seen := make(map[string]bool, len(pairs))
	for _, p := range pairs {
		name := p.key.Value
		f, ok := info.fields[name]
		if !ok {
			d.unknownField(p.key, v.Type(), info, path, name)
			continue
		}
		seen[name] = true
		fv := v.FieldByIndex(f.index)
		d.value(p.value, fv, JoinField(path, name))
		d.checkEnum(p.value, fv, f.enum, JoinField(path, name))
		d.checkMinItems(p.value, fv, f.minItems, JoinField(path, name))
	}
	for _, name := range info.names {
		if info.fields[name].required && !seen[name] {
			d.errorf(n, JoinField(path, name), "missing required field %q", name)
		}
	}
}

// checkMinItems reports a list field with fewer than min items.
func (d *decoder) checkMinItems(n *yaml.Node, v reflect.Value, min int, path string) {
	if min == 0 || v.Kind() != reflect.Slice || v.Len() >= min {
		return
	}
	noun := "item"
	if min > 1 {
		noun = "items"
	}
	d.errorf(n, path, "needs at least %d %s", min, noun)
}

// checkEnum reports a string field whose value is not one of enum.
func (d *decoder) checkEnum(n *yaml.Node, v reflect.Value, enum []string, path string) {
	if len(enum) == 0 || v.Kind() != reflect.String || v.String() == "" || slices.Contains(enum, v.String()) {
		return
	}
	value := fmt.Sprintf("%q", v.String())
	if d.hide {
		value = "the value"
	}
	msg := fmt.Sprintf("%s is not allowed; use one of %s", value, quoteList(enum))
	if s := suggest(v.String(), enum); s != "" {
		msg = fmt.Sprintf("%s is not allowed; did you mean %q? (one of %s)", value, s, quoteList(enum))
	}
	d.errorf(n, path, "%s", msg)
}

func (d *decoder) unknownField(key *yaml.Node, t reflect.Type, info *structInfo, path, name string) {
	if d.hiddenKey(name) {
		d.errorf(key, path, "unknown field (its name is not shown because it looks like a credential); valid fields are %s", quoteList(info.names))
		return
	}
	msg := fmt.Sprintf("unknown field %q", name)
	if h, ok := reflect.New(t).Interface().(UnknownFieldHinter); ok {
		if hint := h.UnknownFieldHint(name); hint != "" {
			d.errorf(key, JoinField(path, name), "%s: %s", msg, hint)
			return
		}
	}
	if s := suggest(name, info.names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; valid fields are " + quoteList(info.names)
	}
	d.errorf(key, JoinField(path, name), "%s", msg)
}

type pair struct{ key, value *yaml.Node }

// pairs returns the key/value pairs of a mapping, with YAML merge keys
// ("<<") expanded and explicit keys winning over merged ones. Duplicate
// explicit keys are reported.
func (d *decoder) pairs(n *yaml.Node, path string) ([]pair, bool) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", d.kindName(n))
		return nil, false
	}
	var out, merged []pair
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "mapping keys must be strings, got %s", d.kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			merged = append(merged, d.mergePairs(val, path)...)
			continue
		}
		if prev, dup := first[k.Value]; dup {
			d.duplicateKey(k, prev, path)
			continue
		}
		first[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, p := range merged {
		if _, ok := first[p.key.Value]; !ok {
			first[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out, true
}

// mergePairs returns the pairs a merge key's value contributes: one mapping
// or a list of mappings, possibly through aliases.
func (d *decoder) mergePairs(n *yaml.Node, path string) []pair {
	if d.budget--; d.budget <= 0 {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		ps, _ := d.pairs(n, path)
		return ps
	case yaml.SequenceNode:
		var out []pair
		for _, item := range n.Content {
			out = append(out, d.mergePairs(item, path)...)
		}
		return out
	}
	d.errorf(n, path, "a merge key (<<) takes a mapping or a list of mappings, got %s", d.kindName(n))
	return nil
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected %s, got %s", goKindName(v.Kind()), d.kindName(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		d.boolValue(n, v, path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if err != nil {
			d.errorf(n, path, "expected an integer, got %s", d.shown(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(n.Value, 10, v.Type().Bits())
		if err != nil {
			d.errorf(n, path, "expected a non-negative integer, got %s", d.shown(n))
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, v.Type().Bits())
		if err != nil {
			d.errorf(n, path, "expected a number, got %s", d.shown(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("strictyaml: unsupported field type " + v.Type().String())
	}
}

func (d *decoder) boolValue(n *yaml.Node, v reflect.Value, path string) {
	switch n.Value {
	case "true", "True", "TRUE":
		v.SetBool(true)
	case "false", "False", "FALSE":
		v.SetBool(false)
	default:
		d.errorf(n, path, "expected true or false, got %s", d.shown(n))
	}
}

// kindName describes n for messages: its kind, or for a scalar its value
// (its type when values are hidden).
func (d *decoder) kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return d.shown(n)
	}
	return "a document"
}

// shown is how a scalar appears in messages: quoted, or when values are
// hidden, by its type.
func (d *decoder) shown(n *yaml.Node) string {
	if !d.hide {
		return fmt.Sprintf("%q", n.Value)
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	}
	return "a string"
}

// withoutValue removes value from msg when values are hidden: its quoted
// form, and the message itself when the value still appears in it.
func (d *decoder) withoutValue(msg, value string) string {
	if !d.hide || value == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, " "+strconv.Quote(value), "")
	msg = strings.ReplaceAll(msg, strconv.Quote(value), "the value")
	if strings.Contains(msg, value) {
		return "the value written here is not valid"
	}
	return msg
}

// hiddenKey reports whether a mapping key must not be shown.
func (d *decoder) hiddenKey(name string) bool {
	return d.hide && credential.Looks(name)
}

// duplicateKey reports a key set twice in a mapping at path.
func (d *decoder) duplicateKey(k, prev *yaml.Node, path string) {
	if d.hiddenKey(k.Value) {
		d.errorf(k, path, "a key is set twice (first at line %d); its name is not shown because it looks like a credential", prev.Line)
		return
	}
	d.errorf(k, JoinField(path, k.Value), "duplicate key %q (first set at line %d)", k.Value, prev.Line)
}

func goKindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "an integer"
}
