package sources

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

const (
	webSpec = "name: web\n"
	apiSpec = "name: api\n"
)

// newTestGit returns a Git polling url (branch main) as source "apps".
func newTestGit(t *testing.T, src config.Source, opts GitOptions) *Git {
	t.Helper()
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if opts.Clock == nil {
		opts.Clock = newFakeClock()
	}
	g := NewGit(opts)
	if err := g.Add(src); err != nil {
		t.Fatal(err)
	}
	return g
}

func gitSourceFor(url string) config.Source {
	return config.Source{Name: "apps", Git: &config.GitSource{URL: url, Repository: "acme/app"}}
}

// pollOne polls and expects exactly one Update.
func pollOne(t *testing.T, g *Git) Update {
	t.Helper()
	ups, err := g.PollOnce(t.Context())
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if len(ups) != 1 {
		t.Fatalf("poll returned %d updates, want 1: %+v", len(ups), ups)
	}
	return ups[0]
}

// changes summarizes an Update as app → change.
func changes(u Update) map[string]Change {
	out := map[string]Change{}
	for _, a := range u.Apps {
		out[a.App] = a.Change
	}
	return out
}

func app(t *testing.T, u Update, name string) AppUpdate {
	t.Helper()
	for _, a := range u.Apps {
		if a.App == name {
			return a
		}
	}
	t.Fatalf("update has no application %q: %+v", name, u.Apps)
	return AppUpdate{}
}

func newAppsRepo(t *testing.T, opts ...gitserver.Option) (*gitserver.Server, *gitserver.Repo, string) {
	srv := gitserver.New(t, opts...)
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	sha := repo.Commit(gitserver.Commit{Files: map[string]string{
		"apps/web/jibe.yaml": webSpec, "apps/web/k8s/deploy.yaml": "replicas: 1\n",
		"apps/api/jibe.yaml": apiSpec, "README.md": "hello\n",
	}})
	return srv, repo, sha
}

func TestGitReportsNewCommitsAndOnlyTouchedApps(t *testing.T) {
	_, repo, first := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})

	u := pollOne(t, g)
	if u.Transition != TransitionInitial || u.Commit.SHA != first || u.Previous != "" {
		t.Fatalf("first poll: transition %v commit %s previous %q", u.Transition, u.Commit.SHA, u.Previous)
	}
	want := map[string]Change{"apps/api": ChangeAdded, "apps/web": ChangeAdded}
	if got := changes(u); !reflect.DeepEqual(got, want) {
		t.Fatalf("first poll changes = %v, want %v", got, want)
	}
	files := readApp(t, app(t, u, "apps/web").Revision.Files)
	if files["jibe.yaml"] != webSpec || files["k8s/deploy.yaml"] != "replicas: 1\n" || len(files) != 2 {
		t.Fatalf("web files = %v", files)
	}

	second := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/k8s/deploy.yaml": "replicas: 3\n"}})
	u = pollOne(t, g)
	if u.Transition != TransitionFastForward || u.Previous != first || u.Commit.SHA != second {
		t.Fatalf("second poll: transition %v previous %s commit %s", u.Transition, u.Previous, u.Commit.SHA)
	}
	want = map[string]Change{"apps/api": ChangeUnchanged, "apps/web": ChangeModified}
	if got := changes(u); !reflect.DeepEqual(got, want) {
		t.Fatalf("second poll changes = %v, want %v", got, want)
	}
	if len(u.Changed()) != 1 || u.Changed()[0].App != "apps/web" {
		t.Fatalf("Changed() = %+v, want only apps/web", u.Changed())
	}
	// The untouched application is still at the new commit.
	if rev := app(t, u, "apps/api").Revision; rev.Commit != second || readApp(t, rev.Files)["jibe.yaml"] != apiSpec {
		t.Fatalf("api revision = %+v", rev)
	}
}

func TestGitNamesThePullRequestOfAMergeCommit(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	pollOne(t, g)
	repo.Commit(gitserver.Commit{Message: "Merge pull request #7 from acme/faster\n\nFaster web", Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# fast\n"}})
	u := pollOne(t, g)
	if u.Commit.PullRequest == nil || u.Commit.PullRequest.Number != 7 {
		t.Fatalf("commit pull request = %+v, want #7", u.Commit.PullRequest)
	}
	if pr := app(t, u, "apps/web").Revision.PullRequest; pr == nil || pr.Number != 7 {
		t.Fatalf("revision pull request = %+v, want #7", pr)
	}
	if !strings.HasPrefix(u.Commit.Message, "Merge pull request #7") || u.Commit.Author != "Jibe Test <test@jibe.dev>" {
		t.Fatalf("commit = %+v", u.Commit)
	}
}

func TestGitReportsAddedAndRemovedApps(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	pollOne(t, g)

	repo.Commit(gitserver.Commit{
		Files:  map[string]string{"apps/worker/jibe.yaml": "name: worker\n"},
		Delete: []string{"apps/api/jibe.yaml"},
	})
	u := pollOne(t, g)
	want := map[string]Change{"apps/api": ChangeRemoved, "apps/web": ChangeUnchanged, "apps/worker": ChangeAdded}
	if got := changes(u); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	if app(t, u, "apps/api").Revision != nil {
		t.Fatal("a removed application has a revision")
	}
}

func TestGitApplicationGlobs(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	repo.Commit(gitserver.Commit{Files: map[string]string{"other/jibe.yaml": "name: other\n"}})
	src := gitSourceFor(repo.URL())
	src.Applications = []string{"apps/*"}
	g := newTestGit(t, src, GitOptions{})
	u := pollOne(t, g)
	want := map[string]Change{"apps/api": ChangeAdded, "apps/web": ChangeAdded}
	if got := changes(u); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes = %v, want %v (other/ is outside the globs)", got, want)
	}
}

func TestGitUnchangedPollCostsOneRequest(t *testing.T) {
	srv, repo, _ := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	pollOne(t, g)

	for i := range 3 {
		srv.ResetRequests()
		ups, err := g.PollOnce(t.Context())
		if err != nil || len(ups) != 0 {
			t.Fatalf("unchanged poll %d: %d updates, err %v", i, len(ups), err)
		}
		reqs := srv.Requests()
		if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/app.git/info/refs" {
			t.Fatalf("unchanged poll %d made requests %+v, want exactly one GET info/refs", i, reqs)
		}
	}

	// A moved branch: ls-remote, then the fetch's own advertisement and pack.
	repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v2\n"}})
	srv.ResetRequests()
	pollOne(t, g)
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{"GET /app.git/info/refs", "GET /app.git/info/refs", "POST /app.git/git-upload-pack"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("a poll finding one new commit made requests %v, want %v", got, want)
	}
}

func TestGitReportsForcePushes(t *testing.T) {
	_, repo, first := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	pollOne(t, g)
	second := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v2\n"}})
	pollOne(t, g)

	t.Run("back to an older commit", func(t *testing.T) {
		repo.ForcePush("main", first)
		u := pollOne(t, g)
		if u.Transition != TransitionRewritten || u.Previous != second || u.Commit.SHA != first {
			t.Fatalf("transition %v previous %s commit %s, want rewritten from %s to %s", u.Transition, u.Previous, u.Commit.SHA, second, first)
		}
		if got := changes(u)["apps/web"]; got != ChangeModified {
			t.Fatalf("web change = %v, want modified (back to the old spec)", got)
		}
	})
	t.Run("to a rewritten history", func(t *testing.T) {
		repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v3\n"}})
		pollOne(t, g)
		rewritten := repo.Commit(gitserver.Commit{Parent: "main~1", Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v3b\n"}})
		u := pollOne(t, g)
		if u.Transition != TransitionRewritten || u.Commit.SHA != rewritten {
			t.Fatalf("transition %v commit %s, want rewritten to %s", u.Transition, u.Commit.SHA, rewritten)
		}
	})
	t.Run("several commits at once are a fast-forward", func(t *testing.T) {
		for i := range 25 {
			repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/n.txt": strings.Repeat("x", i)}})
		}
		u := pollOne(t, g)
		if u.Transition != TransitionFastForward {
			t.Fatalf("transition %v after 25 pushed commits, want fast-forward", u.Transition)
		}
	})
}

func TestGitReportsUnverifiableAncestry(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{AncestryDepth: 5})
	pollOne(t, g)
	for i := range 12 {
		repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/n.txt": strings.Repeat("x", i)}})
	}
	if u := pollOne(t, g); u.Transition != TransitionUnverified {
		t.Fatalf("transition %v after 12 commits with an ancestry depth of 5, want unverified", u.Transition)
	}
}

func TestGitReportsBranchDeletion(t *testing.T) {
	srv, repo, first := newAppsRepo(t)
	repo.Commit(gitserver.Commit{Branch: "keep", Files: map[string]string{"x": "y"}})
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	pollOne(t, g)

	repo.DeleteBranch("main")
	ups, err := g.PollOnce(t.Context())
	var deleted *BranchDeletedError
	if !errors.As(err, &deleted) || deleted.LastCommit != first {
		t.Fatalf("error = %v, want a BranchDeletedError at %s", err, first)
	}
	if len(ups) != 1 || ups[0].Transition != TransitionBranchDeleted || ups[0].Previous != first || len(ups[0].Apps) != 0 {
		t.Fatalf("updates = %+v, want one branch-deleted update", ups)
	}
	st := g.Status()[0]
	if !errors.As(st.LastError, &deleted) || st.ConsecutiveFailures != 1 || st.LastCommit != first {
		t.Fatalf("status = %+v", st)
	}

	// Reported once, not at every poll.
	if ups, _ := g.PollOnce(t.Context()); len(ups) != 0 {
		t.Fatalf("second poll of a deleted branch: %+v", ups)
	}
	// The branch coming back is a new commit to report.
	srv.Repo("app").ForcePush("main", first)
	if u := pollOne(t, g); u.Commit.SHA != first {
		t.Fatalf("restored branch: commit %s", u.Commit.SHA)
	}
	if st := g.Status()[0]; st.LastError != nil || st.ConsecutiveFailures != 0 {
		t.Fatalf("status after recovery = %+v", st)
	}
}

func TestGitResumesFromStateDirAfterRestart(t *testing.T) {
	_, repo, first := newAppsRepo(t)
	state := t.TempDir()
	pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state}))

	second := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/api/jibe.yaml": "name: api\n# v2\n"}})
	u := pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state}))
	if u.Transition != TransitionFastForward || u.Previous != first || u.Commit.SHA != second {
		t.Fatalf("after restart: transition %v previous %s commit %s", u.Transition, u.Previous, u.Commit.SHA)
	}
	if got := changes(u); got["apps/api"] != ChangeModified || got["apps/web"] != ChangeUnchanged {
		t.Fatalf("after restart: changes %v", got)
	}

	// Restarting with nothing new still reports every application once.
	u = pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state}))
	if u.Transition != TransitionInitial || len(u.Changed()) != 2 {
		t.Fatalf("restart without change: %+v", u)
	}
}

func TestGitRunPollsAtIntervalAndOnTrigger(t *testing.T) {
	srv, repo, first := newAppsRepo(t)
	clock := newFakeClock()
	src := gitSourceFor(repo.URL())
	src.Git.PollInterval = &config.Duration{Duration: time.Minute}
	g := newTestGit(t, src, GitOptions{Clock: clock, Jitter: -1})
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan Update)
	done := make(chan error)
	go func() { done <- g.Run(ctx, out) }()

	if u := receive(t, out, "first update"); u.Commit.SHA != first {
		t.Fatalf("first update at %s", u.Commit.SHA)
	}
	eventually(t, "the poller waits for its interval", func() bool { return clock.Waiters() == 1 })
	if next := g.Status()[0].NextPoll; !next.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("next poll at %v, want in one minute", next)
	}

	second := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v2\n"}})
	if n := g.Trigger("ACME/app", "main"); n != 1 {
		t.Fatalf("Trigger matched %d pollers", n)
	}
	if u := receive(t, out, "triggered update"); u.Commit.SHA != second {
		t.Fatalf("triggered update at %s", u.Commit.SHA)
	}

	third := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v3\n"}})
	eventually(t, "the poller waits again", func() bool { return clock.Waiters() >= 1 })
	clock.Step(time.Minute)
	if u := receive(t, out, "update at interval"); u.Commit.SHA != third {
		t.Fatalf("interval update at %s", u.Commit.SHA)
	}
	if n := g.Trigger(srv.URL()+"/other.git", ""); n != 0 {
		t.Fatalf("Trigger of another repository matched %d pollers", n)
	}
	cancel()
	if err := receive(t, done, "Run to return"); err != nil {
		t.Fatalf("Run returned %v", err)
	}
}

func TestGitBacksOffAfterFailures(t *testing.T) {
	clock := newFakeClock()
	srv := gitserver.New(t)
	url := srv.CreateRepo("empty") // no branch yet
	src := gitSourceFor(url)
	src.Git.PollInterval = &config.Duration{Duration: time.Minute}
	g := newTestGit(t, src, GitOptions{Clock: clock, Jitter: -1, MaxBackoff: 3 * time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go g.Run(ctx, make(chan Update, 10))

	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
		eventually(t, "the poller waits", func() bool { return clock.Waiters() == 1 })
		st := g.Status()[0]
		if st.ConsecutiveFailures != i+1 || st.LastError == nil {
			t.Fatalf("after failure %d: status %+v", i+1, st)
		}
		if got := st.NextPoll.Sub(clock.Now()); got != want {
			t.Fatalf("after failure %d: next poll in %v, want %v", i+1, got, want)
		}
		clock.Step(want)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, time.Minute}, {1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {5, 10 * time.Minute}, {60, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := pollBackoff(time.Minute, 10*time.Minute, 0).Delay(tt.failures, nil); got != tt.want {
			t.Errorf("backoff(1m, 10m, %d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
	for range 100 {
		if d := pollBackoff(time.Minute, 10*time.Minute, 0.1).Delay(1, nil); d < 54*time.Second || d > 66*time.Second {
			t.Fatalf("jittered 1m interval = %v", d)
		}
	}
}

func TestGitRunStopsWhileNobodyReads(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- g.Run(ctx, make(chan Update)) }() // never read
	eventually(t, "the first poll finishes", func() bool { return g.Status()[0].LastCommit != "" })
	cancel()
	if err := receive(t, done, "Run to return"); err != nil {
		t.Fatalf("Run returned %v", err)
	}
}

func TestGitSharesOnePollerPerRepositoryAndBranch(t *testing.T) {
	srv, repo, _ := newAppsRepo(t)
	other := gitserver.New(t)
	other.CreateRepo("app") // same path, another server
	other.Repo("app").Commit(gitserver.Commit{Files: map[string]string{"x/jibe.yaml": "name: x\n"}})
	g := NewGit(GitOptions{StateDir: t.TempDir(), Logger: testLogger(t), Clock: newFakeClock()})
	sources := []config.Source{
		{Name: "web", Git: &config.GitSource{URL: repo.URL()}, Applications: []string{"apps/web"}},
		{Name: "api", Git: &config.GitSource{URL: strings.TrimSuffix(repo.URL(), ".git"), Branch: "main"}, Applications: []string{"apps/api"}},
		{Name: "other", Git: &config.GitSource{URL: other.Repo("app").URL()}},
	}
	for _, s := range sources {
		if err := g.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(g.Status()); n != 2 {
		t.Fatalf("%d pollers, want 2 (web and api share one)", n)
	}
	srv.ResetRequests()
	ups, err := g.PollOnce(t.Context())
	if err != nil || len(ups) != 3 {
		t.Fatalf("%d updates (err %v), want one per source", len(ups), err)
	}
	if n := srv.CountRequests(func(r gitserver.Request) bool { return r.Method == "POST" }); n != 1 {
		t.Fatalf("%d fetches from the shared repository, want 1", n)
	}
	bySource := map[string]Update{}
	for _, u := range ups {
		bySource[u.Source] = u
	}
	if got := changes(bySource["web"]); !reflect.DeepEqual(got, map[string]Change{"apps/web": ChangeAdded}) {
		t.Errorf("web source: %v", got)
	}
	if got := changes(bySource["api"]); !reflect.DeepEqual(got, map[string]Change{"apps/api": ChangeAdded}) {
		t.Errorf("api source: %v", got)
	}
	if got := changes(bySource["other"]); !reflect.DeepEqual(got, map[string]Change{"x": ChangeAdded}) {
		t.Errorf("other source: %v", got)
	}

	conflicting := config.Source{Name: "web2", Git: &config.GitSource{URL: repo.URL(), Auth: &config.GitAuth{Token: &config.SecretRef{Env: "X"}}}}
	var cfgErr *ConfigError
	if err := g.Add(conflicting); !errors.As(err, &cfgErr) {
		t.Fatalf("Add with other credentials on a shared poller: %v", err)
	}
}

// A revision of an earlier commit can be read again from the clone, also
// by a Git built anew on the same state directory (an agent restarting).
func TestGitRevisionAtAnEarlierCommit(t *testing.T) {
	_, repo, first := newAppsRepo(t)
	state := t.TempDir()
	pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state}))
	repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/k8s/deploy.yaml": "replicas: 2\n"}})
	pollOne(t, newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state}))

	again := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{StateDir: state})
	rev, err := again.Revision("apps", "apps/web", first)
	if err != nil {
		t.Fatal(err)
	}
	if got := readApp(t, rev.Files)["k8s/deploy.yaml"]; got != "replicas: 1\n" || rev.Commit != first {
		t.Errorf("revision at %s: deploy.yaml %q (commit %s)", first, got, rev.Commit)
	}
	if _, err := again.Revision("apps", "apps/web", strings.Repeat("a", 40)); err == nil {
		t.Error("an unknown commit must be an error")
	}
	if _, err := again.Revision("nope", "apps/web", first); err == nil {
		t.Error("an unknown source must be an error")
	}
}

// A poll that a webhook triggered expects the branch to have moved: it
// fetches at once, without asking where the branch is first (the fetch's
// own advertisement says so), so a push costs two requests to the server
// (advertisement and upload-pack), not three. A trigger with nothing new
// costs the advertisement alone; a deleted branch is still reported.
func TestGitTriggeredPollFetchesWithoutLsRemote(t *testing.T) {
	srv, repo, first := newAppsRepo(t)
	clock := newFakeClock()
	src := gitSourceFor(repo.URL())
	src.Git.PollInterval = &config.Duration{Duration: time.Hour}
	g := newTestGit(t, src, GitOptions{Clock: clock, Jitter: -1})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := make(chan Update)
	go func() { _ = g.Run(ctx, out) }()
	if u := receive(t, out, "first update"); u.Commit.SHA != first {
		t.Fatalf("first update at %s", u.Commit.SHA)
	}
	eventually(t, "the poller waits for its interval", func() bool { return clock.Waiters() == 1 })

	srv.ResetRequests()
	second := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v2\n"}})
	g.Trigger("ACME/app", "main")
	if u := receive(t, out, "triggered update"); u.Commit.SHA != second || len(u.Changed()) != 1 {
		t.Fatalf("triggered update: %+v", u)
	}
	if n := srv.CountRequests(nil); n != 2 {
		t.Errorf("a triggered poll of a push made %d requests, want 2 (advertisement, upload-pack): %+v", n, srv.Requests())
	}

	srv.ResetRequests()
	g.Trigger("ACME/app", "main")
	// Each poll ends by waiting for the interval again: a third waiter.
	eventually(t, "the unchanged triggered poll to end", func() bool { return clock.Waiters() == 3 })
	if n := srv.CountRequests(nil); n != 1 {
		t.Errorf("a triggered poll with nothing new made %d requests, want 1: %+v", n, srv.Requests())
	}
	if s := g.Status()[0]; s.LastError != nil || s.LastCommit != second {
		t.Errorf("status after an unchanged triggered poll: %+v", s)
	}

	repo.DeleteBranch("main")
	g.Trigger("ACME/app", "main")
	if u := receive(t, out, "branch deleted"); u.Transition != TransitionBranchDeleted || u.Previous != second {
		t.Fatalf("triggered poll of a deleted branch: %+v", u)
	}
}
