package config_test

import (
	"os"
	"testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// FuzzConfigParse feeds arbitrary agent configurations to the parser: it
// must never panic, every failure must be a list of problems with
// messages, and a configuration it accepts has limits a spec can load
// with. Run it with: go test ./config -run '^$' -fuzz FuzzConfigParse
func FuzzConfigParse(f *testing.F) {
	example, err := os.ReadFile("../examples/agent.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(limitsConfig + "limits: {environments: 500, bytesPerFile: 1048576, manifestsPerTarget: -1}\n"))
	f.Add([]byte(limitsConfig + "github: {token: ghp_0123456789}\n"))
	f.Add([]byte("a: &a [*a, *a]\nsources: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("agent.yaml", data)
		if err != nil {
			list := strictyaml.AsList(err)
			if len(list) == 0 {
				t.Fatalf("error is not a problem list: %v", err)
			}
			for _, e := range list {
				if e.Message == "" {
					t.Fatalf("problem without message: %#v", e)
				}
			}
			return
		}
		if l := c.Limits.Spec(); l.Environments <= 0 || l.BytesPerFile <= 0 || l.FilesPerApplication <= 0 {
			t.Fatalf("accepted limits that load nothing: %+v", l)
		}
	})
}
