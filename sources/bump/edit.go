package bump

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Paths are the fields of an artifact a Change may edit.
var Paths = []string{"image", "ami", "s3.version"}

// Edit returns content (a jibe.yaml) with the value of c's artifact field
// changed from c.From to c.To, and every other byte kept: comments, blank
// lines, key order, anchors, line endings and the value's quoting style
// (a plain value that would no longer read back as the same string is
// written double-quoted). The result is parsed again and checked to be the
// same YAML tree but for that value before it is returned.
//
// A file that no longer holds c.From there returns a *SupersededError; a
// value Edit cannot splice safely (an alias, a block or multi-line scalar)
// returns an *EditError.
func Edit(content []byte, c Change) ([]byte, error) {
	out, _, err := edit(content, c)
	return out, err
}

// span is where Edit replaced the value: bytes [Start, OldEnd) of the
// original became [Start, NewEnd) of the result.
type span struct{ Start, OldEnd, NewEnd int }

func edit(content []byte, c Change) ([]byte, span, error) {
	if err := checkChange(c); err != nil {
		return nil, span{}, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, span{}, &EditError{Change: c, Reason: fmt.Sprintf("jibe.yaml does not parse: %v", err)}
	}
	node, err := locate(&doc, c)
	if err != nil {
		return nil, span{}, err
	}
	if node.Anchor != "" && aliased(&doc, node) {
		return nil, span{}, &EditError{Change: c, Line: node.Line, Reason: fmt.Sprintf("the value is anchored as &%s and used elsewhere as *%s, which would change too; edit it by hand", node.Anchor, node.Anchor)}
	}
	for _, style := range styles(node.Style) {
		out, sp, err := splice(content, node, c, style)
		if err != nil {
			return nil, span{}, err
		}
		if sameBut(&doc, node, out, c.To) {
			return out, sp, nil
		}
	}
	return nil, span{}, &EditError{Change: c, Line: node.Line, Reason: "the edited file would not read back as the same YAML with only this value changed; edit it by hand"}
}

// checkChange refuses a change Edit cannot make whatever the file holds.
func checkChange(c Change) error {
	switch {
	case !validPath(c.Path):
		return &EditError{Change: c, Reason: fmt.Sprintf("path %q is none of %s", c.Path, strings.Join(Paths, ", "))}
	case c.Artifact == "":
		return &EditError{Change: c, Reason: "no artifact named"}
	case c.To == "" || strings.ContainsAny(c.To, "\r\n\u0085\u2028\u2029"):
		return &EditError{Change: c, Reason: "the new value is empty or spans lines"}
	}
	return nil
}

func validPath(p string) bool {
	for _, q := range Paths {
		if p == q {
			return true
		}
	}
	return false
}

// styles returns the quoting styles to try, the original first.
func styles(orig yaml.Style) []yaml.Style {
	if orig&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return []yaml.Style{orig}
	}
	return []yaml.Style{0, yaml.DoubleQuotedStyle}
}

// locate finds the scalar holding the artifact's field and checks that it
// holds c.From.
func locate(doc *yaml.Node, c Change) (*yaml.Node, error) {
	keys := append([]string{"spec", "artifacts", c.Artifact}, strings.Split(c.Path, ".")...)
	node := doc
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	for _, k := range keys {
		next, err := child(node, k, c)
		if err != nil || next == nil {
			return nil, err
		}
		node = next
	}
	return scalarHolding(node, c)
}

// child returns the value of key k in mapping node, nil with a
// *SupersededError when it has none.
func child(node *yaml.Node, k string, c Change) (*yaml.Node, error) {
	if node.Kind == yaml.AliasNode {
		return nil, &EditError{Change: c, Line: node.Line, Reason: fmt.Sprintf("the value is an alias of &%s: edit the anchor by hand", node.Value)}
	}
	if node.Kind != yaml.MappingNode {
		return nil, &SupersededError{Change: c, Missing: true}
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if key := node.Content[i]; key.Kind == yaml.ScalarNode && key.Value == k {
			return node.Content[i+1], nil
		}
	}
	return nil, &SupersededError{Change: c, Missing: true}
}

// scalarHolding checks that node is a spliceable scalar holding c.From.
func scalarHolding(node *yaml.Node, c Change) (*yaml.Node, error) {
	switch {
	case node.Kind == yaml.AliasNode:
		return nil, &EditError{Change: c, Line: node.Line, Reason: fmt.Sprintf("the value is an alias of &%s: edit the anchor by hand", node.Value)}
	case node.Kind != yaml.ScalarNode:
		return nil, &SupersededError{Change: c, Missing: true}
	case node.Value != c.From:
		return nil, &SupersededError{Change: c, Found: node.Value}
	case node.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return nil, &EditError{Change: c, Line: node.Line, Reason: "the value is a block scalar (| or >); write it on one line"}
	}
	return node, nil
}

// aliased reports whether an alias of the document refers to target.
func aliased(n, target *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		return n.Alias == target
	}
	for _, c := range n.Content {
		if aliased(c, target) {
			return true
		}
	}
	return false
}

// splice replaces node's token in content by c.To written in style.
func splice(content []byte, node *yaml.Node, c Change, style yaml.Style) ([]byte, span, error) {
	start, ok := offsetOf(content, node.Line, node.Column)
	if ok {
		start = skipProperties(content, start)
	}
	end, ok2 := tokenEnd(content, start, node)
	if !ok || !ok2 {
		return nil, span{}, &EditError{Change: c, Line: node.Line, Reason: "the value spans lines or could not be found in the file; write it on one line"}
	}
	repl := quote(c.To, style)
	out := make([]byte, 0, len(content)-(end-start)+len(repl))
	out = append(append(append(out, content[:start]...), repl...), content[end:]...)
	return out, span{Start: start, OldEnd: end, NewEnd: start + len(repl)}, nil
}

var bom = []byte("\xef\xbb\xbf")

// offsetOf turns the parser's 1-based line and column (counted in
// characters, with CR LF, CR, LF, NEL, LS and PS as line breaks, as
// go-yaml counts them) into a byte offset.
func offsetOf(b []byte, line, col int) (int, bool) {
	l, c, i := 1, 1, 0
	if bytes.HasPrefix(b, bom) {
		i = len(bom)
	}
	for i < len(b) {
		if l == line && c == col {
			return i, true
		}
		r, w := utf8.DecodeRune(b[i:])
		switch {
		case r == '\r' && i+1 < len(b) && b[i+1] == '\n':
			l, c, w = l+1, 1, 2
		case r == '\r' || r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029:
			l, c = l+1, 1
		default:
			c++
		}
		i += w
	}
	return 0, false
}

// skipProperties moves past an anchor (&name) and a tag (!tag) written
// before the value, where the parser's position points.
func skipProperties(b []byte, i int) int {
	for n := 0; n < 2 && i < len(b) && (b[i] == '&' || b[i] == '!'); n++ {
		for i < len(b) && !isSpace(b[i]) {
			i++
		}
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	return i
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// tokenEnd returns the end of the scalar token starting at i.
func tokenEnd(b []byte, i int, node *yaml.Node) (int, bool) {
	switch {
	case node.Style&yaml.DoubleQuotedStyle != 0:
		return quotedEnd(b, i, '"')
	case node.Style&yaml.SingleQuotedStyle != 0:
		return quotedEnd(b, i, '\'')
	}
	end := i + len(node.Value)
	return end, end <= len(b) && string(b[i:end]) == node.Value
}

// quotedEnd returns the offset after the closing quote of the quoted
// scalar opening at i. Double-quoted scalars escape with a backslash,
// single-quoted ones by doubling the quote.
func quotedEnd(b []byte, i int, q byte) (int, bool) {
	if i >= len(b) || b[i] != q {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch {
		case q == '"' && b[j] == '\\':
			j++
		case b[j] == q && q == '\'' && j+1 < len(b) && b[j+1] == '\'':
			j++
		case b[j] == q:
			return j + 1, true
		}
	}
	return 0, false
}

// quote writes s as a scalar token in style.
func quote(s string, style yaml.Style) string {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		return doubleQuote(s)
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return s
}

// doubleQuote escapes s for a YAML double-quoted scalar.
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError || r == 0xfeff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// sameBut reports whether out parses to orig's tree with target's value
// replaced by to.
func sameBut(orig, target *yaml.Node, out []byte, to string) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(out, &doc); err != nil {
		return false
	}
	return equalNodes(orig, &doc, target, to)
}

func equalNodes(a, b, target *yaml.Node, to string) bool {
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Anchor != b.Anchor || len(a.Content) != len(b.Content) ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment {
		return false
	}
	if a == target {
		return b.Value == to
	}
	if a.Value != b.Value || a.Style != b.Style {
		return false
	}
	if a.Kind == yaml.AliasNode {
		return true // the anchor's node is compared where it is defined
	}
	for i := range a.Content {
		if !equalNodes(a.Content[i], b.Content[i], target, to) {
			return false
		}
	}
	return true
}

// EditError is a change Edit cannot make to this file safely. Retrying
// does not help: the file (or the change) must change first.
type EditError struct {
	// Change is the change refused.
	Change Change
	// Line is the value's line in jibe.yaml, 0 when unknown.
	Line int
	// Reason says what is wrong and what to do.
	Reason string
}

// Error names the file, line, artifact and the reason.
func (e *EditError) Error() string {
	return fmt.Sprintf("%s: artifact %s %s: cannot change %q to %q: %s", e.where(), e.Change.Artifact, e.Change.Path, e.Change.From, e.Change.To, e.Reason)
}

func (e *EditError) where() string {
	f := specFile(e.Change.Folder)
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", f, e.Line)
	}
	return f
}

// SupersededError means jibe.yaml no longer holds the change's From value
// (someone changed it by hand, or the change was applied already): the
// change must not be made, and a pull request proposing it is obsolete.
type SupersededError struct {
	// Change is the superseded change.
	Change Change
	// Found is the value the file holds now; "" when Missing.
	Found string
	// Missing is true when the artifact or its field is gone.
	Missing bool
}

// Applied reports whether the file already holds the change's new value.
func (e *SupersededError) Applied() bool { return !e.Missing && e.Found == e.Change.To }

// Error says what the file holds instead of the change's From value.
func (e *SupersededError) Error() string {
	c := e.Change
	where := fmt.Sprintf("%s: artifact %s %s", specFile(c.Folder), c.Artifact, c.Path)
	switch {
	case e.Missing:
		return where + " no longer exists; the change to " + c.To + " is superseded"
	case e.Applied():
		return fmt.Sprintf("%s already holds %s", where, c.To)
	}
	return fmt.Sprintf("%s holds %s, not %s: changed by hand, so the change to %s is superseded", where, e.Found, c.From, c.To)
}

// IsSuperseded reports whether err is (or wraps) a *SupersededError.
func IsSuperseded(err error) bool {
	var s *SupersededError
	return errors.As(err, &s)
}

// specFile is the path of the application's jibe.yaml in the repository.
func specFile(folder string) string {
	if folder == "" || folder == "." {
		return "jibe.yaml"
	}
	return strings.TrimSuffix(folder, "/") + "/jibe.yaml"
}
