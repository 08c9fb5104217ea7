package sources

import (
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/spec"
)

// appFilter decides which folders are applications: folders holding a
// spec.FileName that match one of the globs, or any such folder when there
// are no globs.
type appFilter struct {
	globs [][]string // split on "/"
}

// newAppFilter checks and splits the globs of config.Source.Applications.
func newAppFilter(globs []string) (appFilter, error) {
	var f appFilter
	for _, g := range globs {
		g = strings.Trim(path.Clean("/"+g), "/")
		if _, err := path.Match(g, ""); err != nil {
			return appFilter{}, &ConfigError{Field: "applications", Err: err}
		}
		f.globs = append(f.globs, strings.Split(g, "/"))
	}
	return f, nil
}

// isApp reports whether dir (slash-separated, "." for the root) is an
// application, given whether it holds a spec.FileName.
func (f appFilter) isApp(dir string, hasSpec bool) bool {
	if !hasSpec {
		return false
	}
	if len(f.globs) == 0 {
		return true
	}
	segs := splitDir(dir)
	for _, g := range f.globs {
		if len(g) == len(segs) && matchSegments(g, segs) {
			return true
		}
	}
	return false
}

// descend reports whether folders below dir may be applications, so that
// walks skip the rest of a large repository.
func (f appFilter) descend(dir string) bool {
	if len(f.globs) == 0 {
		return true
	}
	segs := splitDir(dir)
	for _, g := range f.globs {
		if len(g) > len(segs) && matchSegments(g[:len(segs)], segs) {
			return true
		}
	}
	return false
}

func splitDir(dir string) []string {
	if dir == "." || dir == "" {
		return nil
	}
	return strings.Split(dir, "/")
}

func matchSegments(globs, segs []string) bool {
	for i, g := range globs {
		if g == "." && len(segs) == 0 {
			continue
		}
		if ok, _ := path.Match(g, segs[i]); !ok {
			return false
		}
	}
	return true
}

// joinDir joins a folder and a child name, treating "." as the root.
func joinDir(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// isSpecFile reports whether name is the file marking an application.
func isSpecFile(name string) bool { return name == spec.FileName }

// appChange is one application's change between two sets of digests.
type appChange struct {
	app    string
	change Change
}

// diffApps compares the applications of two snapshots, each mapping an
// application folder to the digest of its content. It returns every
// application of either side, sorted by folder.
func diffApps(prev, next map[string]string) []appChange {
	var out []appChange
	for app, digest := range next {
		old, ok := prev[app]
		switch {
		case !ok:
			out = append(out, appChange{app, ChangeAdded})
		case old != digest:
			out = append(out, appChange{app, ChangeModified})
		default:
			out = append(out, appChange{app, ChangeUnchanged})
		}
	}
	for app := range prev {
		if _, ok := next[app]; !ok {
			out = append(out, appChange{app, ChangeRemoved})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].app < out[j].app })
	return out
}

// pullRequestPatterns find the pull request number in the messages GitHub
// writes for merge commits ("Merge pull request #12 from ...") and squash
// merges ("Title (#12)").
var pullRequestPatterns = []*regexp.Regexp{
	regexp.MustCompile(`^Merge pull request #(\d+) `),
	regexp.MustCompile(`\(#(\d+)\)$`),
}

// pullRequestOf returns the pull request a commit message names, or nil.
func pullRequestOf(message string) *PullRequestRef {
	subject, _, _ := strings.Cut(message, "\n")
	subject = strings.TrimSpace(subject)
	for _, re := range pullRequestPatterns {
		if m := re.FindStringSubmatch(subject); m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil {
				return &PullRequestRef{Number: n}
			}
		}
	}
	return nil
}
