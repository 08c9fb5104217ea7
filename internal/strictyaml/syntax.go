package strictyaml

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems the YAML parser (not its scanner)
// reports. The parser gives their line 0-based, one line early: the line
// where the unclosed construct opens (a flow sequence, a block mapping),
// or the line of the problem when that construct opens on line 1.
var parserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>",
	"did not find expected node content", "did not find expected '-' indicator",
	"did not find expected key", "did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"found undefined tag handle", "found duplicate %YAML directive", "found incompatible YAML document",
	"found duplicate %TAG directive",
}

// readerProblems are the problems found while reading bytes, before any
// position is known.
var readerProblems = []string{
	"input error", "invalid leading UTF-8 octet", "incomplete UTF-8 octet sequence",
	"invalid trailing UTF-8 octet", "invalid length of a UTF-8 sequence", "invalid Unicode character",
	"incomplete UTF-16 character", "unexpected low surrogate area", "incomplete UTF-16 surrogate pair",
	"expected low surrogate area", "control characters are not allowed",
}

// tabProblems are what the scanner says of a tab in indentation.
var tabProblems = []string{
	"found character that cannot start any token", "found a tab character that violates indentation",
	"found a tab character where an indentation space is expected",
}

// clearer words some parser problems in terms of what to fix.
var clearer = map[string]string{
	"did not find expected ',' or ']'": "a flow sequence [...] opened on this line is not closed (or its items are not separated by ','); close it with ']'",
	"did not find expected ',' or '}'": "a flow mapping {...} opened on this line is not closed (or its entries are not separated by ','); close it with '}'",
	"did not find expected key":        "did not find expected key; check the indentation of this line: a key must line up with the other keys of its mapping",
}

// SyntaxError turns an error of the YAML parser on data into an Error at
// the line the mistake is on: the parser's line corrected where it gives
// it one line early, line 1 where it gives none, and a tab used for
// indentation named as such, at its line and column.
func SyntaxError(file string, data []byte, err error) *Error {
	line, problem := 0, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		problem = m[2]
	}
	if tab := firstTabIndent(data, max(line, 1)); tab.Line > 0 && (slices.Contains(tabProblems, problem) || tab.Line == line) {
		return &Error{File: file, Pos: tab, Message: "tabs are not allowed for indentation; indent with spaces"}
	}
	switch {
	case slices.Contains(parserProblems, problem):
		line++
	case line == 0 && !isReaderProblem(problem):
		line = 1
	}
	if c, ok := clearer[problem]; ok {
		problem = c
	}
	return &Error{File: file, Pos: Pos{Line: line}, Message: "invalid YAML: " + problem}
}

func isReaderProblem(problem string) bool {
	for _, p := range readerProblems {
		if strings.HasPrefix(problem, p) {
			return true
		}
	}
	return false
}

// firstTabIndent returns the position of the first tab in the indentation
// of a line that is not blank, from line from on, or the zero Pos.
func firstTabIndent(data []byte, from int) Pos {
	for i, line := range strings.Split(string(data), "\n") {
		if i+1 < from {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if indent == len(strings.TrimRight(line, "\r")) {
			continue // blank
		}
		if col := strings.IndexByte(line[:indent], '\t'); col >= 0 {
			return Pos{Line: i + 1, Column: col + 1}
		}
	}
	return Pos{}
}
