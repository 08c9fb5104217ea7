package bump

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-github/v60/github"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/sources"
)

const (
	pushToken = "ghp_push_s3cret"
	readToken = "ghp_read_s3cret"
	apiToken  = "ghp_api"
	fullName  = "acme/apps"
)

// webYAML is an application spec with comments, blank lines, a flow map
// and quoting, edited in place by the proposals below.
const webYAML = `# The web front end.
apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: web
spec:
  artifacts:
    web:
      image: "acme/web:1.0"   # bumped by Jibe

    sidecar: {image: acme/proxy:7}
  environments: [{name: dev}, {name: prod}]
`

const apiYAML = "apiVersion: jibe.dev/v1alpha1\r\nkind: Application\r\nmetadata: {name: api}\r\nspec:\r\n  artifacts:\r\n    api:\r\n      ami: ami-0001 # base image\r\n"

// rig is a Git server holding acme/apps, the GitHub emulator linked to
// it, and the source's credentials and clients.
type rig struct {
	t     *testing.T
	repo  *gitserver.Repo
	url   string
	emu   *githubemu.Emulator
	gh    *github.Client
	git   *sources.Git
	logs  *bytes.Buffer
	clock *clocktesting.FakeClock
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := gitserver.New(t, gitserver.WithToken(pushToken), gitserver.WithReadOnlyToken(readToken))
	u := srv.CreateRepo("apps")
	repo := srv.Repo("apps")
	repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": webYAML, "apps/api/jibe.yaml": apiYAML, "README.md": "apps\n"}})
	emu := githubemu.Start(t, githubemu.Options{})
	if err := emu.AddRepo(fullName); err != nil {
		t.Fatal(err)
	}
	emu.AddToken(apiToken, "jibe-bot")
	if err := emu.SetPermission(fullName, "jibe-bot", githubemu.PermissionWrite); err != nil {
		t.Fatal(err)
	}
	if err := emu.LinkGit(fullName, repo); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, repo: repo, url: u, emu: emu, gh: ghClient(t, emu), logs: &bytes.Buffer{},
		clock: clocktesting.NewFakeClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))}
	r.git = r.source(pushToken)
	return r
}

func ghClient(t *testing.T, e *githubemu.Emulator) *github.Client {
	t.Helper()
	c := github.NewClient(nil).WithAuthToken(apiToken)
	u, err := url.Parse(e.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

// source returns a sources.Git polling acme/apps with token, kept in a
// secret file.
func (r *rig) source(token string) *sources.Git {
	r.t.Helper()
	file := filepath.Join(r.t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		r.t.Fatal(err)
	}
	g := sources.NewGit(sources.GitOptions{StateDir: r.t.TempDir()})
	err := g.Add(config.Source{Name: "apps", Git: &config.GitSource{
		URL: r.url, Branch: "main", Repository: fullName,
		Auth: &config.GitAuth{Token: &config.SecretRef{File: file}},
	}})
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

func (r *rig) proposer(g *sources.Git, mode Mode, group Grouping) *Proposer {
	r.t.Helper()
	cr, err := g.Credentials("apps")
	if err != nil {
		r.t.Fatal(err)
	}
	p, err := New(Options{Source: "apps", Credentials: cr, GitHub: r.gh, Mode: mode, Group: group, Clock: r.clock,
		Logger: slog.New(slog.NewTextHandler(r.logs, nil))})
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// pulls returns every pull request of acme/apps.
func (r *rig) pulls() []*github.PullRequest {
	r.t.Helper()
	prs, _, err := r.gh.PullRequests.List(r.t.Context(), "acme", "apps", &github.PullRequestListOptions{State: "all"})
	if err != nil {
		r.t.Fatal(err)
	}
	return prs
}

// file returns a file at the tip of branch, as a clone sees it.
func (r *rig) file(branch, path string) string {
	r.t.Helper()
	c := r.commit(branch)
	f, err := c.File(path)
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := f.Contents()
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) commit(branch string) *object.Commit {
	r.t.Helper()
	repo, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: r.url, ReferenceName: plumbing.NewBranchReferenceName(branch),
		SingleBranch: true, Depth: 1, Auth: &githttp.BasicAuth{Username: "x", Password: readToken}})
	if err != nil {
		r.t.Fatal(err)
	}
	head, err := repo.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func (r *rig) noSecretsLogged() {
	r.t.Helper()
	if s := r.logs.String(); strings.Contains(s, pushToken) || strings.Contains(s, readToken) {
		r.t.Fatalf("a secret was logged:\n%s", s)
	}
}

var webChange = Change{App: "web", Folder: "apps/web", Artifact: "web", Path: "image", From: "acme/web:1.0", To: "acme/web:1.1", Environments: []string{"dev", "prod"}}

func TestProposeOpensAPullRequestWithTheByteExactEdit(t *testing.T) {
	r := newRig(t)
	p := r.proposer(r.git, ModePullRequest, PerApplication)
	if err := p.Propose(t.Context(), []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	prs := r.pulls()
	if len(prs) != 1 || prs[0].GetHead().GetRef() != "jibe/bump/web" || prs[0].GetBase().GetRef() != "main" {
		t.Fatalf("pull requests: %v", prs)
	}
	want := strings.Replace(webYAML, `"acme/web:1.0"`, `"acme/web:1.1"`, 1)
	if got := r.file("jibe/bump/web", "apps/web/jibe.yaml"); got != want {
		t.Fatalf("edited file:\n%q\nwant\n%q", got, want)
	}
	if got := r.file("jibe/bump/web", "apps/api/jibe.yaml"); got != apiYAML {
		t.Fatalf("another application's file changed: %q", got)
	}
	c := r.commit("jibe/bump/web")
	if c.Author.Name != "Jibe" || c.Author.Email != DefaultAuthorEmail || !c.Author.When.Equal(r.clock.Now()) {
		t.Errorf("author %v", c.Author)
	}
	body := prs[0].GetBody()
	for _, s := range []string{"| web | web (`image`) | `acme/web:1.0` | `acme/web:1.1` | dev → prod |", marker} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q:\n%s", s, body)
		}
	}
	if got := prs[0].GetTitle(); got != "Bump web: web to acme/web:1.1" {
		t.Errorf("title %q", got)
	}
	r.noSecretsLogged()
}

// The plan preview fetches refs/pull/N/head of the pull request a bump
// opened, and sees the edited application.
func TestTheBumpPullRequestCanBePreviewed(t *testing.T) {
	r := newRig(t)
	if _, err := r.git.PollOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.proposer(r.git, ModePullRequest, PerApplication).Propose(t.Context(), []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	n := r.pulls()[0].GetNumber()
	u, err := r.git.PullRequest(t.Context(), "apps", n)
	if err != nil {
		t.Fatal(err)
	}
	changed := u.Changed()
	if len(changed) != 1 || changed[0].App != "apps/web" {
		t.Fatalf("changed applications: %+v", changed)
	}
	b, err := fs.ReadFile(changed[0].Revision.Files, "jibe.yaml")
	if err != nil || !strings.Contains(string(b), `"acme/web:1.1"`) {
		t.Fatalf("previewed jibe.yaml: %q %v", b, err)
	}
}

func TestANewerVersionUpdatesTheSamePullRequest(t *testing.T) {
	r := newRig(t)
	p := r.proposer(r.git, ModePullRequest, PerApplication)
	if err := p.Propose(t.Context(), []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	first := r.repo.Head("jibe/bump/web")
	if err := p.Propose(t.Context(), []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	if got := r.repo.Head("jibe/bump/web"); got != first {
		t.Fatalf("proposing the same change again moved the branch to %s", got)
	}
	newer := webChange
	newer.To = "acme/web:1.2"
	if err := p.Propose(t.Context(), []Change{newer}); err != nil {
		t.Fatal(err)
	}
	prs := r.pulls()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests, want the one updated", len(prs))
	}
	pr, _ := r.emu.PullRequest(fullName, prs[0].GetNumber())
	if pr.HeadSHA == first || pr.HeadSHA != r.repo.Head("jibe/bump/web") || !pr.Open {
		t.Fatalf("pull request head %s, first %s, branch %s", pr.HeadSHA, first, r.repo.Head("jibe/bump/web"))
	}
	if ref, _ := r.repo.Ref("refs/pull/1/head"); ref != pr.HeadSHA {
		t.Fatalf("refs/pull/1/head = %s, want the new head %s", ref, pr.HeadSHA)
	}
	if !strings.Contains(r.file("jibe/bump/web", "apps/web/jibe.yaml"), `image: "acme/web:1.2"   # bumped by Jibe`) {
		t.Fatal("the branch does not hold the newer version")
	}
	if pr.Title != "Bump web: web to acme/web:1.2" || !strings.Contains(prs[0].GetBody(), "`acme/web:1.2`") {
		t.Fatalf("title %q, body %s", pr.Title, prs[0].GetBody())
	}
}

func TestAManualEditOnTheBranchClosesThePullRequest(t *testing.T) {
	r := newRig(t)
	p := r.proposer(r.git, ModePullRequest, PerApplication)
	if err := p.Propose(t.Context(), []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	r.repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": strings.Replace(webYAML, "acme/web:1.0", "acme/web:2.0-hotfix", 1)}})
	if err := p.Propose(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	pr, _ := r.emu.PullRequest(fullName, 1)
	if pr.Open {
		t.Fatal("the superseded pull request is still open")
	}
	comments := r.emu.Comments(fullName, 1)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "apps/web/jibe.yaml: artifact web image holds acme/web:2.0-hotfix, not acme/web:1.0") {
		t.Fatalf("comments: %+v", comments)
	}
	if err := p.Propose(t.Context(), []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	if len(r.pulls()) != 1 {
		t.Fatal("a superseded change opened a pull request again")
	}
}

func TestGroupPerSource(t *testing.T) {
	r := newRig(t)
	p := r.proposer(r.git, ModePullRequest, PerSource)
	api := Change{App: "api", Folder: "apps/api", Artifact: "api", Path: "ami", From: "ami-0001", To: "ami-0002", Environments: []string{"prod"}}
	if err := p.Propose(t.Context(), []Change{webChange, api}); err != nil {
		t.Fatal(err)
	}
	api3 := api
	api3.To = "ami-0003"
	if err := p.Propose(t.Context(), []Change{api3}); err != nil {
		t.Fatal(err)
	}
	prs := r.pulls()
	if len(prs) != 1 || prs[0].GetHead().GetRef() != "jibe/bump/all" || prs[0].GetTitle() != "Bump 2 artifacts of 2 applications" {
		t.Fatalf("pull requests: %v", prs)
	}
	if got := r.file("jibe/bump/all", "apps/api/jibe.yaml"); got != strings.Replace(apiYAML, "ami-0001", "ami-0003", 1) {
		t.Fatalf("api: %q", got)
	}
	if !strings.Contains(r.file("jibe/bump/all", "apps/web/jibe.yaml"), `"acme/web:1.1"`) {
		t.Fatal("the earlier change to web was dropped from the group")
	}
}

func TestCommitModeCommitsOnTheBranch(t *testing.T) {
	r := newRig(t)
	p := r.proposer(r.git, ModeCommit, PerApplication)
	before := r.repo.Head("main")
	if err := p.Propose(t.Context(), []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	c := r.commit("main")
	if len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != before {
		t.Fatalf("commit %s is not a fast-forward of %s", c.Hash, before)
	}
	if !strings.Contains(r.file("main", "apps/web/jibe.yaml"), `"acme/web:1.1"`) || len(r.pulls()) != 0 {
		t.Fatal("commit mode did not commit on main alone")
	}
}

// A push racing the bump's commit makes it clone again and retry once.
func TestCommitModeRetriesOnceWhenTheBranchMoved(t *testing.T) {
	r := newRig(t)
	p := r.proposer(r.git, ModeCommit, PerApplication)
	ws, err := p.clone(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	other := r.repo.Commit(gitserver.Commit{Files: map[string]string{"README.md": "moved\n"}})
	if _, err := p.commitGroup(t.Context(), ws, []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	c := r.commit("main")
	if c.ParentHashes[0].String() != other || r.file("main", "README.md") != "moved\n" {
		t.Fatalf("the retried commit is not on top of the racing one")
	}
	if !strings.Contains(r.logs.String(), "retrying") {
		t.Fatalf("the first push did not fail: %s", r.logs)
	}
}

func TestAPushRefusedSaysWhatToGrant(t *testing.T) {
	r := newRig(t)
	p := r.proposer(r.source(readToken), ModePullRequest, PerApplication)
	err := p.Propose(t.Context(), []Change{webChange})
	var refused *PushError
	if !errors.As(err, &refused) {
		t.Fatalf("err = %v, want a PushError", err)
	}
	if !strings.Contains(err.Error(), "contents:write") || strings.Contains(err.Error(), readToken) {
		t.Fatalf("error: %v", err)
	}
	if len(r.pulls()) != 0 {
		t.Fatal("a pull request was opened without its branch")
	}
	r.noSecretsLogged()
}

// Review stays the gate: a protected branch merges the bump only once
// approved, and a merged bump is not proposed again.
func TestAnApprovedBumpMergesAndIsNotProposedAgain(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	p := r.proposer(r.git, ModePullRequest, PerApplication)
	if err := p.Propose(ctx, []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.ProtectBranch(fullName, "main", githubemu.BranchProtection{RequiredApprovals: 1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.gh.PullRequests.Merge(ctx, "acme", "apps", 1, "", nil); err == nil {
		t.Fatal("an unapproved bump merged into a protected branch")
	}
	r.emu.SetPermission(fullName, "alice", githubemu.PermissionWrite)
	if _, err := r.emu.SubmitReview(ctx, fullName, 1, githubemu.Review{User: "alice", State: githubemu.ReviewApproved}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.gh.PullRequests.Merge(ctx, "acme", "apps", 1, "", nil); err != nil {
		t.Fatal(err)
	}
	if got := r.file("main", "apps/web/jibe.yaml"); got != strings.Replace(webYAML, "acme/web:1.0", "acme/web:1.1", 1) {
		t.Fatalf("main after the merge: %q", got)
	}
	if err := p.Propose(ctx, []Change{webChange}); err != nil {
		t.Fatal(err)
	}
	if prs := r.pulls(); len(prs) != 1 || prs[0].GetState() != "closed" {
		t.Fatalf("a merged bump was proposed again: %v", prs)
	}
}
