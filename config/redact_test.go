package config

import (
	"testing"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// Should a message quote a value of the file, the value is replaced before
// the error leaves Parse; short values, which may be words of the
// message, are kept.
func TestWithoutValuesHidesQuotedValues(t *testing.T) {
	root, perr := strictyaml.Parse("agent.yaml", []byte("a: {env: hunter2-is-my-password}\nb: [info, AKIAIOSFODNN7EXAMPLE]\n"))
	if perr != nil {
		t.Fatal(perr)
	}
	errs := strictyaml.ErrorList{
		{File: "agent.yaml", Field: "a.env", Message: `"hunter2-is-my-password" is wrong`},
		{File: "agent.yaml", Field: "b[1]", Message: `"AKIAIOSFODNN7EXAMPLE" is not one of "info", "warn"`},
	}
	got := withoutValues(errs, root).Error()
	want := "agent.yaml: a.env: the value is wrong\nagent.yaml: b[1]: the value is not one of \"info\", \"warn\""
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
