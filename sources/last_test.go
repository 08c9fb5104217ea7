package sources

import (
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// A Git built anew on a state directory (an agent starting) knows the
// applications each source held at the last commit it reported, before
// any poll; a source never polled holds none.
func TestGitApplicationsAtTheLastReportedCommit(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	state := t.TempDir()
	fresh := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state})
	if apps, err := fresh.Applications("apps"); err != nil || len(apps) != 0 {
		t.Fatalf("before the first poll: %v, %v", apps, err)
	}
	pollOne(t, fresh)
	second := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/api/jibe.yaml": "name: api\n# v2\n"}})
	pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state}))

	again := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state})
	apps, err := again.Applications("apps")
	if err != nil || len(apps) != 2 {
		t.Fatalf("applications = %v, %v", apps, err)
	}
	if apps[0].App != "apps/api" || apps[0].Commit != second || apps[1].App != "apps/web" {
		t.Errorf("applications = %s@%s, %s", apps[0].App, apps[0].Commit, apps[1].App)
	}
	if got := readApp(t, apps[0].Files)["jibe.yaml"]; got != "name: api\n# v2\n" {
		t.Errorf("apps/api/jibe.yaml = %q", got)
	}
	if _, err := again.Applications("nope"); err == nil {
		t.Error("an unknown source must be an error")
	}
}
