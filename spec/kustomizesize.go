package spec

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustomizeLoads counts what a build of the kustomization in folder rel
// would read, as kustomize reads it: the kustomization, its resource
// files, and each base and component again wherever it is included, so
// that a base included twice by overlays that are themselves included
// twice counts four times. Counting stops above limit. Kustomize builds
// such trees in time exponential in their depth, from a few files, so a
// build counted above limit is refused before it starts.
func (l *loader) kustomizeLoads(fsys filesys.FileSystem, rel string, limit int) int {
	c := &loadCounter{l: l, fsys: fsys, limit: limit, memo: map[string]int{}, visiting: map[string]bool{}}
	return c.count(rel)
}

// loadCounter is kustomizeLoads' walk.
type loadCounter struct {
	l        *loader
	fsys     filesys.FileSystem
	limit    int
	memo     map[string]int
	visiting map[string]bool
}

// count returns the loads of the kustomization folder dir, at most
// limit+1. A cycle counts nothing more: kustomize refuses it.
func (c *loadCounter) count(dir string) int {
	if n, ok := c.memo[dir]; ok {
		return n
	}
	if c.visiting[dir] {
		return 0
	}
	file := c.l.kustomization(dir)
	data, err := c.fsys.ReadFile("/" + file)
	var k types.Kustomization
	if file == "" || err != nil || k.Unmarshal(data) != nil {
		return 1 // kustomize reports it
	}
	c.visiting[dir] = true
	defer delete(c.visiting, dir)
	n := 1
	for _, ref := range append(append(append([]string(nil), k.Resources...), k.Bases...), k.Components...) {
		p := path.Join(dir, ref)
		if n > c.limit {
			break
		}
		if strings.HasPrefix(p, "../") || p == ".." || c.l.kustomization(p) == "" {
			n++ // a file, or a path the checks or kustomize refuse
			continue
		}
		n += c.count(p)
	}
	n = min(n, c.limit+1)
	c.memo[dir] = n
	return n
}

// checkKustomizeLoads returns the problem of a build of rel counted
// above limits.manifestsPerTarget, or "".
func (l *loader) checkKustomizeLoads(fsys filesys.FileSystem, rel string) string {
	limit := l.limits.ManifestsPerTarget
	if l.kustomizeLoads(fsys, rel, limit) <= limit {
		return ""
	}
	return overLimit(fmt.Sprintf("kustomize would read more than %d kustomizations and resource files to build %s (bases and components count each time they are included)", limit, rel),
		limit, "manifestsPerTarget")
}
