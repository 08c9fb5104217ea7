package strictyaml

import (
	"strings"
	"testing"
)

// Syntax errors cite the line the mistake is on (or the line where the
// unclosed construct opens), and tabs in indentation say so.
func TestParseSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"unclosed flow sequence", "a: 1\nb: [x, y\nc: 2\n", 2, 0, "invalid YAML: a flow sequence [...] opened on this line is not closed"},
		{"unclosed flow mapping", "a: 1\nb: {x: 1\nc: 2\n", 2, 0, "invalid YAML: a flow mapping {...} opened on this line is not closed"},
		{"bad indentation at end of file", "a:\n  b: 1\n c: 2\n", 3, 0, "invalid YAML: did not find expected key"},
		{"bad indentation after a nested mapping", "a:\n  b: 1\n  c: 2\n d: 3\n", 4, 0, "invalid YAML: did not find expected key"},
		{"mapping value on line 1", "a: b: c\n", 1, 0, "invalid YAML: mapping values are not allowed in this context"},
		{"unclosed quote", "a: 1\nb: \"abc\nc: 2\n", 2, 0, "invalid YAML: found unexpected end of stream"},
		{"tab indentation", "a:\n\tb: 1\n", 2, 1, "tabs are not allowed for indentation; indent with spaces"},
		{"tab after spaces", "a:\n  b: 1\n  \tc: 2\n", 3, 3, "tabs are not allowed for indentation; indent with spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Line != tt.line || err.Column != tt.col || !strings.HasPrefix(err.Message, tt.msg) {
				t.Errorf("got %v\nwant line %d column %d, message starting %q", err, tt.line, tt.col, tt.msg)
			}
		})
	}
}
