package strictyaml

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return errors.New("invalid duration " + string(b))
	}
	d.Duration = v
	return nil
}

type inner struct {
	Weight int      `json:"weight"`
	Wait   duration `json:"wait"`
}

type Base struct {
	Shared string `json:"shared"`
}

type sample struct {
	Base
	Name    string            `json:"name" jsonschema:"required"`
	Enabled bool              `json:"enabled"`
	Ratio   float64           `json:"ratio"`
	Count   *int              `json:"count"`
	Steps   []inner           `json:"steps"`
	Labels  map[string]string `json:"labels"`
	Free    any               `json:"free"`
	Skipped string            `json:"-"`
}

func TestDecodeValid(t *testing.T) {
	src := `
name: web
shared: yes-a-string
enabled: true
ratio: 0.25
count: 3
steps:
  - {weight: 10, wait: 1m}
  - weight: 50
labels: {team: payments, "a.b": c}
free: {x: [1, 2]}
`
	var s sample
	doc, errs := Decode("app.yaml", []byte(src), &s)
	if errs != nil {
		t.Fatalf("unexpected errors:\n%v", errs)
	}
	if s.Name != "web" || !s.Enabled || s.Ratio != 0.25 || *s.Count != 3 || s.Shared != "yes-a-string" {
		t.Errorf("decoded %+v", s)
	}
	if len(s.Steps) != 2 || s.Steps[0].Wait.Duration != time.Minute || s.Steps[1].Weight != 50 {
		t.Errorf("steps = %+v", s.Steps)
	}
	if s.Labels["a.b"] != "c" {
		t.Errorf("labels = %v", s.Labels)
	}
	if got := doc.Pos("steps[1].weight"); got != (Pos{Line: 9, Column: 13}) {
		t.Errorf("position of steps[1].weight = %+v", got)
	}
	if got := doc.Pos(`labels["a.b"]`); got.Line != 10 {
		t.Errorf("position of quoted label key = %+v", got)
	}
	if got := doc.Pos("steps[1].wait"); got != (Pos{Line: 9, Column: 5}) {
		t.Errorf("missing field should fall back to its parent, got %+v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown field with suggestion", "name: a\nenabeld: true\n",
			[]string{`f.yaml:2:1: enabeld: unknown field "enabeld"; did you mean "enabled"?`}},
		{"unknown field lists valid fields", "name: a\nzzzzzzzz: 1\n",
			[]string{`f.yaml:2:1: zzzzzzzz: unknown field "zzzzzzzz"; valid fields are "count", "enabled", "free", "labels", "name", "ratio", "shared", "steps"`}},
		{"missing required", "enabled: true\n",
			[]string{`f.yaml:1:1: name: missing required field "name"`}},
		{"wrong types, all reported", "name: [a]\nenabled: yes\ncount: three\nratio: x\nsteps: {}\n",
			[]string{
				`f.yaml:1:7: name: expected a string, got a list`,
				`f.yaml:2:10: enabled: expected true or false, got "yes"`,
				`f.yaml:3:8: count: expected an integer, got "three"`,
				`f.yaml:4:8: ratio: expected a number, got "x"`,
				`f.yaml:5:8: steps: expected a list, got a mapping`,
			}},
		{"text unmarshaler error", "name: a\nsteps:\n  - wait: 5 minutes\n",
			[]string{`f.yaml:3:11: steps[0].wait: invalid duration 5 minutes`}},
		{"duplicate key", "name: a\nname: b\n",
			[]string{`f.yaml:2:1: name: duplicate key "name" (first set at line 1)`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`f.yaml:1:1: expected a mapping, got a list`}},
		{"two documents", "name: a\n---\nname: b\n",
			[]string{`f.yaml:2:1: file holds more than one YAML document; keep one document per file`}},
		{"empty", "# nothing\n",
			[]string{`f.yaml: file is empty; expected a YAML document`}},
		{"syntax error", "name: a\n  bad: : x\n",
			[]string{`f.yaml:2: invalid YAML: mapping values are not allowed in this context`}},
		{"integer overflow", "name: a\nsteps: [{weight: 99999999999999999999}]\n",
			[]string{`f.yaml:2:18: steps[0].weight: expected an integer, got "99999999999999999999"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sample
			_, errs := Decode("f.yaml", []byte(tt.src), &s)
			errs.Sort()
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestDecodeMergeKeysAndAliases(t *testing.T) {
	src := `
defaults: &d {weight: 5, wait: 1s}
name: a
steps:
  - <<: *d
    weight: 7
  - *d
`
	type withDefaults struct {
		sample   `json:",inline"`
		Defaults inner `json:"defaults"`
	}
	var s withDefaults
	_, errs := Decode("f.yaml", []byte(src), &s)
	if errs != nil {
		t.Fatal(errs)
	}
	if s.Steps[0].Weight != 7 || s.Steps[0].Wait.Duration != time.Second || s.Steps[1].Weight != 5 {
		t.Errorf("steps = %+v", s.Steps)
	}
}

func TestDecodeBoundsAliasExpansion(t *testing.T) {
	// Each level doubles the expanded size: 2^30 values if expanded naively.
	var b strings.Builder
	b.WriteString("a0: &a0 [[], []]\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	var v map[string]tree
	_, errs := Decode("bomb.yaml", []byte(b.String()), &v)
	if len(errs) == 0 || !strings.Contains(errs.Error(), "too many aliases") {
		t.Fatalf("want an expansion error, got %v", errs)
	}
}

type tree []tree

func TestErrorListErr(t *testing.T) {
	var l ErrorList
	if l.Err() != nil {
		t.Fatal("empty list must give a nil error")
	}
	l = append(l, &Error{File: "b", Message: "x"}, &Error{File: "a", Pos: Pos{Line: 2, Column: 1}, Message: "y"})
	err := l.Err()
	if got := err.Error(); got != "a:2:1: y\nb: x" {
		t.Errorf("Err() = %q", got)
	}
	if len(AsList(err)) != 2 {
		t.Errorf("AsList lost problems")
	}
}

// With HideValues, no message quotes a scalar written in the file, nor a
// key that looks like a credential; the same problems are reported, by
// field and position.
func TestDecodeHideValues(t *testing.T) {
	const secret = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
	type enumerated struct {
		Level string `json:"level" jsonschema:"enum=debug,enum=info"`
	}
	tests := []struct {
		name, src string
		v         any
		want      string
	}{
		{"bare value", secret, &sample{}, "f.yaml:1:1: expected a mapping, got a string"},
		{"bare number", "12345678901234567890", &sample{}, "f.yaml:1:1: expected a mapping, got a number"},
		{"wrong type", "name: " + secret + "\nsteps: " + secret, &sample{}, "f.yaml:2:8: steps: expected a list, got a string"},
		{"integer", "name: x\ncount: " + secret, &sample{}, "f.yaml:2:8: count: expected an integer, got a string"},
		{"boolean", "name: x\nenabled: " + secret, &sample{}, "f.yaml:2:10: enabled: expected true or false, got a string"},
		{"number", "name: x\nratio: " + secret, &sample{}, "f.yaml:2:8: ratio: expected a number, got a string"},
		{"text", "name: x\nsteps: [{wait: " + secret + "}]", &sample{}, "f.yaml:2:16: steps[0].wait: the value written here is not valid"},
		{"enum", "level: " + secret, &enumerated{}, `f.yaml:1:8: level: the value is not allowed; use one of "debug", "info"`},
		{"enum suggestion", "level: inf", &enumerated{}, `f.yaml:1:8: level: the value is not allowed; did you mean "info"? (one of "debug", "info")`},
		{"credential as key", "name: x\n" + secret + ": 1", &sample{}, "f.yaml:2:1: unknown field (its name is not shown because it looks like a credential)"},
		{"credential as duplicate key", "level: info\n" + secret + ": 1\n" + secret + ": 2", &enumerated{}, "f.yaml:3:1: a key is set twice (first at line 2); its name is not shown"},
		{"merge key", "<<: " + secret, &enumerated{}, "f.yaml:1:5: a merge key (<<) takes a mapping or a list of mappings, got a string"},
		{"mapping key", "? [" + secret + "]\n: 1", &enumerated{}, "f.yaml:1:3: mapping keys must be strings, got a list"},
	}
	for _, tt := range tests {
		root, perr := Parse("f.yaml", []byte(tt.src))
		if perr != nil {
			t.Fatalf("%s: %v", tt.name, perr)
		}
		_, errs := DecodeNodeWith("f.yaml", root, tt.v, Options{HideValues: true})
		got := errs.Error()
		if !strings.Contains(got, tt.want) || strings.Contains(got, secret) || strings.Contains(got, "12345678901234567890") {
			t.Errorf("%s:\n%s\nwant it to contain %q and no value", tt.name, got, tt.want)
		}
	}
	// Without the option, values are quoted.
	_, errs := Decode("f.yaml", []byte("name: x\ncount: many"), &sample{})
	if !strings.Contains(errs.Error(), `expected an integer, got "many"`) {
		t.Errorf("without HideValues: %v", errs)
	}
}
