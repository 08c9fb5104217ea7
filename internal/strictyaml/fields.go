package strictyaml

import (
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

type fieldInfo struct {
	index    []int
	required bool
	enum     []string // allowed values of a string field, from `jsonschema:"enum=..."`
	minItems int      // least length of a list field, from `jsonschema:"minItems=N"`
}

type structInfo struct {
	fields map[string]fieldInfo
	names  []string // sorted, for messages
}

var structInfos sync.Map // reflect.Type -> *structInfo

// structInfoOf returns the YAML names of t's fields, following `json` tags
// and flattening embedded structs that have no name of their own.
func structInfoOf(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{fields: map[string]fieldInfo{}}
	collectFields(t, nil, info)
	for name := range info.fields {
		info.names = append(info.names, name)
	}
	sort.Strings(info.names)
	structInfos.Store(t, info)
	return info
}

func collectFields(t reflect.Type, index []int, info *structInfo) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			collectFields(f.Type, idx, info)
			continue
		}
		if name == "" {
			name = f.Name
		}
		schemaTag := f.Tag.Get("jsonschema")
		info.fields[name] = fieldInfo{index: idx, required: hasTagOption(schemaTag, "required"),
			enum: tagValues(schemaTag, "enum"), minItems: tagInt(schemaTag, "minItems")}
	}
}

// tagValues returns the values of every "key=value" option of tag.
func tagValues(tag, key string) []string {
	var out []string
	for _, o := range strings.Split(tag, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// tagInt returns the value of a "key=N" option of tag, or 0.
func tagInt(tag, key string) int {
	for _, v := range tagValues(tag, key) {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return 0
}

func hasTagOption(tag, option string) bool {
	for _, o := range strings.Split(tag, ",") {
		if o == option {
			return true
		}
	}
	return false
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// JoinField appends a struct field name to a field path.
func JoinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// JoinKey appends a map key to a field path, quoting keys that are not
// plain identifiers so that the path stays unambiguous.
func JoinKey(path, key string) string {
	if identifier.MatchString(key) {
		return JoinField(path, key)
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// JoinIndex appends a list index to a field path.
func JoinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// parentPath returns the path one level up: "a.b[2]" → "a.b" → "a" → "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

// Suggest returns the candidate closest to name when it is close enough to
// be a likely typo (an edit distance below 3, or the same letters in
// another case), and "" otherwise.
func Suggest(name string, candidates []string) string { return suggest(name, candidates) }

// suggest returns the candidate closest to name when it is close enough to
// be a likely typo, and "" otherwise.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
