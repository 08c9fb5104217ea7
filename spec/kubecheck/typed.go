package kubecheck

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// typedWalker checks a YAML tree against a Go API type the way the API
// server's strict JSON decoding does: every key a field of the type,
// every value of the field's JSON type. Unlike the decoder it reports
// every problem, each at its node.
type typedWalker struct {
	o *objReport
	// what names the object's type for messages, e.g. "apps/v1 Deployment".
	what string
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// reflectType returns the struct type of an API object.
func reflectType(obj runtime.Object) reflect.Type {
	return reflect.TypeOf(obj).Elem()
}

// value checks node n against type t at path.
func (w typedWalker) value(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		w.custom(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.value(n, t.Elem(), path)
	case reflect.Struct:
		w.structValue(n, t, path)
	case reflect.Map:
		w.mapValue(n, t, path)
	case reflect.Slice:
		w.sliceValue(n, t, path)
	case reflect.Interface:
		// any value
	default:
		w.scalar(n, t, path)
	}
}

// custom checks a value of a type with its own JSON decoding (quantities,
// int-or-strings, times, raw objects) by decoding it as the API server
// does.
func (w typedWalker) custom(n *yaml.Node, t reflect.Type, path string) {
	var v any
	if err := n.Decode(&v); err != nil {
		w.o.errorf(n, path, "cannot read the value: %v", err)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		w.o.errorf(n, path, "the value cannot be written as JSON: %v", err)
		return
	}
	if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(data); err != nil {
		w.o.errorf(n, path, "%s", customMessage(t, n, err))
	}
}

// customMessage words a custom type's decoding error.
func customMessage(t reflect.Type, n *yaml.Node, err error) string {
	if t == reflect.TypeFor[resource.Quantity]() {
		return fmt.Sprintf("%q is not a quantity; write a number with an optional suffix, such as 500m, 2, 128Mi or 1G", n.Value)
	}
	return fmt.Sprintf("invalid value %s: %v", shown(n), err)
}

func (w typedWalker) structValue(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.o.errorf(n, path, "expected a mapping, got %s", shown(n))
		return
	}
	fields := fieldsOf(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		f, ok := fields.byName[key.Value]
		if !ok {
			w.unknownField(key, fields.names, path)
			continue
		}
		w.value(val, f, strictyaml.JoinField(path, key.Value))
	}
}

// unknownField reports a key that is no field of the type.
func (w typedWalker) unknownField(key *yaml.Node, names []string, path string) {
	field := strictyaml.JoinKey(path, key.Value)
	msg := fmt.Sprintf("unknown field %q in %s", key.Value, w.what)
	if s := strictyaml.Suggest(key.Value, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if len(names) <= 12 {
		msg += "; valid fields here are " + quoted(names)
	} else {
		msg += "; check the field against the API reference (kubectl explain)"
	}
	w.o.errorf(key, field, "%s", msg)
}

func (w typedWalker) mapValue(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.o.errorf(n, path, "expected a mapping, got %s", shown(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		w.value(n.Content[i+1], t.Elem(), strictyaml.JoinKey(path, n.Content[i].Value))
	}
}

func (w typedWalker) sliceValue(n *yaml.Node, t reflect.Type, path string) {
	if t.Elem().Kind() == reflect.Uint8 {
		w.bytes(n, path)
		return
	}
	if n.Kind != yaml.SequenceNode {
		w.o.errorf(n, path, "expected a list, got %s", shown(n))
		return
	}
	for i, item := range n.Content {
		w.value(item, t.Elem(), strictyaml.JoinIndex(path, i))
	}
}

// bytes checks a []byte field, which JSON carries in base64.
func (w typedWalker) bytes(n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" && n.ShortTag() != "!!binary" {
		w.o.errorf(n, path, "expected base64 text, got %s", shown(n))
		return
	}
	if _, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), "")); err != nil {
		w.o.errorf(n, path, "the value is not base64; encode it (base64 -w0), or put the plain text under stringData")
	}
}

// scalar checks a string, number or boolean against its YAML type: the
// objects are sent as JSON, so 8080 is a number and "8080" a string.
func (w typedWalker) scalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.o.errorf(n, path, "expected %s, got %s", kindName(t), shown(n))
		return
	}
	tag := n.ShortTag()
	switch t.Kind() {
	case reflect.String:
		if tag != "!!str" && tag != "!!timestamp" {
			w.o.errorf(n, path, "expected a string, got %s; quote it: \"%s\"", shown(n), n.Value)
		}
	case reflect.Bool:
		if tag != "!!bool" {
			w.o.errorf(n, path, "expected true or false, got %s", shown(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.integer(n, t, path, tag)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.integer(n, t, path, tag)
	case reflect.Float32, reflect.Float64:
		if tag != "!!int" && tag != "!!float" {
			w.o.errorf(n, path, "expected a number, got %s", shown(n))
		}
	}
}

func (w typedWalker) integer(n *yaml.Node, t reflect.Type, path, tag string) {
	if tag != "!!int" {
		w.o.errorf(n, path, "expected an integer, got %s", shown(n))
		return
	}
	v := reflect.New(t).Elem()
	var i int64
	err := n.Decode(&i)
	switch {
	case err != nil: // beyond int64
	case v.CanInt() && !v.OverflowInt(i):
		return
	case v.CanUint() && i >= 0 && !v.OverflowUint(uint64(i)):
		return
	}
	w.o.errorf(n, path, "%s is out of range for this field (%s)", n.Value, t.Kind())
}

// shown describes a node for messages: a scalar's value and its YAML
// type, or the kind of a collection.
func shown(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	}
	return strconv.Quote(n.Value)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "an integer"
}

// structFields are the JSON fields of a struct type, inline fields
// flattened.
type structFields struct {
	byName map[string]reflect.Type
	names  []string
}

var fieldCache sync.Map // reflect.Type → *structFields

// fieldsOf returns the JSON fields of struct type t.
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string]reflect.Type{}}
	addFields(f, t)
	slices.Sort(f.names)
	fieldCache.Store(t, f)
	return f
}

func addFields(f *structFields, t reflect.Type) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" || !sf.IsExported() && !sf.Anonymous {
			continue
		}
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(f, ft)
				continue
			}
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := f.byName[name]; !dup {
			f.byName[name] = sf.Type
			f.names = append(f.names, name)
		}
	}
}
