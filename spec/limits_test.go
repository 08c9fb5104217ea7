package spec_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/spec"
)

// small are limits a little above what the base application of the rule
// cases holds, so that each case exceeds one.
var small = spec.Limits{FilesPerApplication: 6, BytesPerFile: 4096, BytesPerApplication: 6000,
	Environments: 2, Targets: 4, StepsPerStrategy: 3, ManifestsPerTarget: 2}

// Each limit refuses an application that exceeds it, naming the limit, its
// value and where to change it.
func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name, limit string
		value       any
		patches     []patch
	}{
		{"files per application", "filesPerApplication", 6, []patch{{"notes/a.txt", "", "a"}, {"notes/b.txt", "", "b"}}},
		{"bytes per file", "bytesPerFile", 4096, []patch{{"notes/big.txt", "", strings.Repeat("x", 5000)}}},
		{"bytes per application", "bytesPerApplication", 6000, []patch{{"notes/a.txt", "", strings.Repeat("x", 4000)}}},
		{"environments", "environments", 2, []patch{{"jibe.yaml", "    - name: production\n", "    - name: qa\n      aws: {account: qa}\n      kubernetes: {cluster: qa}\n    - name: production\n"}}},
		{"targets", "targets", 4, []patch{{"jibe.yaml", "  environments:\n", "    - name: fn2\n      lambda:\n        function: function.yaml\n  environments:\n"}}},
		{"steps per strategy", "stepsPerStrategy", 3, []patch{{"jibe.yaml", "            - setWeight: 50\n", "            - setWeight: 50\n            - setWeight: 60\n"}}},
		{"manifests per target", "manifestsPerTarget", 2, []patch{{"k8s/more.yaml", "", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := patched(t, tc.patches)
			_, err := spec.LoadFS(fsys, "app", spec.WithLimits(small))
			want := fmt.Sprintf("above the limit of %v (limits.%s)", tc.value, tc.limit)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "raise limits."+tc.limit+" in the agent configuration") {
				t.Errorf("want a problem with %q, got:\n%v", want, err)
			}
		})
	}
	if _, err := spec.LoadFS(patched(t, nil), "app", spec.WithLimits(small)); err != nil {
		t.Errorf("the base application is within the limits of the test:\n%v", err)
	}
}

// patched is the base application of the rule cases with patches applied.
func patched(t *testing.T, patches []patch) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, content := range baseFiles {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	for _, p := range patches {
		f := fsys[p.file]
		if f == nil {
			f = &fstest.MapFile{}
			fsys[p.file] = f
		}
		if p.old != "" && !strings.Contains(string(f.Data), p.old) {
			t.Fatalf("patch target %q not in %s", p.old, p.file)
		}
		if p.old == "" {
			f.Data = append(f.Data, p.new...)
		} else {
			f.Data = []byte(strings.Replace(string(f.Data), p.old, p.new, 1))
		}
	}
	return fsys
}

// The defaults apply to every limit left at zero.
func TestLimitsDefaults(t *testing.T) {
	l := spec.Limits{Environments: 7}.WithDefaults()
	if l.Environments != 7 || l.Targets != spec.DefaultTargets || l.BytesPerFile != spec.DefaultBytesPerFile ||
		l.FilesPerApplication != spec.DefaultFilesPerApplication || l.ManifestsPerTarget != spec.DefaultManifestsPerTarget {
		t.Errorf("limits = %+v", l)
	}
}
