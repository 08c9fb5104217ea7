package protocol

import (
	"encoding/xml"
	"sort"
	"strconv"
	"strings"
)

// Node is a generic awsQuery structure: a scalar, a structure (named
// children) or a list (member.N children). Parsed from form parameters it
// re-encodes as the matching XML, so shapes the emulator does not model
// (rule conditions, redirect actions…) round-trip unchanged.
type Node struct {
	Value    string
	Children map[string]*Node
	Items    []*Node
	isList   bool
}

// Tree returns the Node under parameter name, or nil when absent.
func (f Form) Tree(name string) *Node {
	prefix := f.key(name)
	root := &Node{}
	found := false
	for key, vals := range f.values {
		if key != prefix && !strings.HasPrefix(key, prefix+".") {
			continue
		}
		found = true
		path := strings.TrimPrefix(strings.TrimPrefix(key, prefix), ".")
		root.set(path, vals[0])
	}
	if !found {
		return nil
	}
	root.normalize()
	return root
}

// set stores value at a dotted path such as "member.1.Weight".
func (n *Node) set(path, value string) {
	if path == "" {
		n.Value = value
		return
	}
	head, rest, _ := strings.Cut(path, ".")
	if n.Children == nil {
		n.Children = map[string]*Node{}
	}
	if head == "member" {
		idx, tail, _ := strings.Cut(rest, ".")
		n.isList = true
		head, rest = "#"+idx, tail
	}
	child, ok := n.Children[head]
	if !ok {
		child = &Node{}
		n.Children[head] = child
	}
	child.set(rest, value)
}

// normalize turns "#N" children into ordered Items.
func (n *Node) normalize() {
	for _, c := range n.Children {
		c.normalize()
	}
	if !n.isList {
		return
	}
	idx := make([]int, 0, len(n.Children))
	for k := range n.Children {
		i, _ := strconv.Atoi(strings.TrimPrefix(k, "#"))
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		n.Items = append(n.Items, n.Children["#"+strconv.Itoa(i)])
	}
	n.Children = nil
}

// Get returns the child structure member, or nil.
func (n *Node) Get(name string) *Node {
	if n == nil {
		return nil
	}
	return n.Children[name]
}

// String returns the scalar value of member name, or "".
func (n *Node) String(name string) string {
	if c := n.Get(name); c != nil {
		return c.Value
	}
	return ""
}

// SetString sets scalar member name.
func (n *Node) SetString(name, value string) {
	if n.Children == nil {
		n.Children = map[string]*Node{}
	}
	n.Children[name] = &Node{Value: value}
}

// Set sets member name to child.
func (n *Node) Set(name string, child *Node) {
	if n.Children == nil {
		n.Children = map[string]*Node{}
	}
	n.Children[name] = child
}

// List returns a list node of items.
func List(items ...*Node) *Node { return &Node{Items: items, isList: true} }

// Struct returns a structure node with scalar members from key/value pairs.
func Struct(kv ...string) *Node {
	n := &Node{Children: map[string]*Node{}}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Children[kv[i]] = &Node{Value: kv[i+1]}
	}
	return n
}

// MarshalXML encodes the node with start as its element; list items are
// <member> elements and structure members are sorted by name.
func (n *Node) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	switch {
	case n.isList:
		for _, it := range n.Items {
			if err := e.EncodeElement(it, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
				return err
			}
		}
	case len(n.Children) > 0:
		names := make([]string, 0, len(n.Children))
		for k := range n.Children {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if err := e.EncodeElement(n.Children[k], xml.StartElement{Name: xml.Name{Local: k}}); err != nil {
				return err
			}
		}
	default:
		if err := e.EncodeToken(xml.CharData(n.Value)); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}
