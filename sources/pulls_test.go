package sources

import (
	"reflect"
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// A pull request's head is fetched from refs/pull/N/head and compared
// with the branch: only the applications it changes are reported, with
// their files at the head, and the branch's own state is left alone.
func TestGitPullRequestReportsTheApplicationsItChanges(t *testing.T) {
	_, repo, first := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	pollOne(t, g)

	head := repo.Commit(gitserver.Commit{Branch: "bump", Parent: first,
		Files: map[string]string{"apps/web/k8s/deploy.yaml": "replicas: 3\n"}})
	repo.UpdateRef("refs/pull/7/head", head)

	u, err := g.PullRequest(t.Context(), "apps", 7)
	if err != nil {
		t.Fatal(err)
	}
	if u.Commit.SHA != head || u.Previous != first {
		t.Errorf("pull request described at %s against %s; want %s against %s", u.Commit.SHA, u.Previous, head, first)
	}
	if got := changes(Update{Apps: u.Changed()}); !reflect.DeepEqual(got, map[string]Change{"apps/web": ChangeModified}) {
		t.Fatalf("changed applications: %v", got)
	}
	if got := readApp(t, u.Changed()[0].Revision.Files)["k8s/deploy.yaml"]; got != "replicas: 3\n" {
		t.Errorf("deploy.yaml at the head: %q", got)
	}
	if ups, err := g.PollOnce(t.Context()); err != nil || len(ups) != 0 {
		t.Errorf("the branch did not move, but a poll reported %d updates (%v)", len(ups), err)
	}

	if _, err := g.PullRequest(t.Context(), "apps", 8); err == nil {
		t.Error("a pull request the server does not have must be an error")
	}
}
