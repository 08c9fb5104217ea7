package gitserver_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// lsRemote returns the remote's refs by name, as go-git sees them.
func lsRemote(t *testing.T, url string, auth transport.AuthMethod) (map[string]string, error) {
	t.Helper()
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	refs, err := rem.List(&git.ListOptions{Auth: auth})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range refs {
		out[r.Name().String()] = r.Hash().String()
	}
	return out, nil
}

func mustLsRemote(t *testing.T, url string, auth transport.AuthMethod) map[string]string {
	t.Helper()
	refs, err := lsRemote(t, url, auth)
	if err != nil {
		t.Fatalf("ls-remote %s: %v", url, err)
	}
	return refs
}

func clone(t *testing.T, url string, auth transport.AuthMethod) (*git.Repository, error) {
	t.Helper()
	return git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: url, Auth: auth})
}

func TestLsRemoteSeesEachPush(t *testing.T) {
	srv := gitserver.New(t)
	url := srv.CreateRepo("app")
	repo := srv.Repo("app")

	first := repo.Commit(gitserver.Commit{Files: map[string]string{"app.yaml": "replicas: 1\n"}})
	if got := mustLsRemote(t, url, nil)["refs/heads/main"]; got != first {
		t.Fatalf("refs/heads/main = %q, want %q", got, first)
	}
	second := repo.Commit(gitserver.Commit{Files: map[string]string{"app.yaml": "replicas: 2\n"}})
	if got := mustLsRemote(t, url, nil)["refs/heads/main"]; got != second {
		t.Fatalf("after second push refs/heads/main = %q, want %q", got, second)
	}
}

func TestCommitBuildsOnBranchTipAndDeletes(t *testing.T) {
	srv := gitserver.New(t)
	url := srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{"a.txt": "a", "dir/b.txt": "b"}})
	repo.Commit(gitserver.Commit{Files: map[string]string{"c.txt": "c"}, Delete: []string{"a.txt"}})

	r, err := clone(t, url, nil)
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	got := treeFiles(t, r)
	want := "c.txt,dir/b.txt"
	if strings.Join(got, ",") != want {
		t.Fatalf("files = %v, want %s", got, want)
	}
}

// A merge commit has the branch tip and the merged revision as parents,
// and the first parent's tree with the given changes.
func TestMergeCommit(t *testing.T) {
	srv := gitserver.New(t)
	url := srv.CreateRepo("app")
	repo := srv.Repo("app")
	base := repo.Commit(gitserver.Commit{Files: map[string]string{"a.txt": "a"}})
	feature := repo.Commit(gitserver.Commit{Branch: "feature", Parent: base, Files: map[string]string{"a.txt": "b"}})
	merge := repo.Commit(gitserver.Commit{Message: "Merge pull request #1 from acme/feature", Merge: []string{"feature"},
		Files: map[string]string{"a.txt": "b"}})

	r, err := clone(t, url, nil)
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	c, err := r.CommitObject(plumbing.NewHash(merge))
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if got := fmt.Sprint(c.ParentHashes); got != fmt.Sprint([]plumbing.Hash{plumbing.NewHash(base), plumbing.NewHash(feature)}) {
		t.Errorf("parents = %s, want [%s %s]", got, base, feature)
	}
	f, err := c.File("a.txt")
	if err != nil {
		t.Fatalf("a.txt: %v", err)
	}
	if got, _ := f.Contents(); got != "b" {
		t.Errorf("a.txt = %q, want %q", got, "b")
	}
}

// Tests and benchmarks own servers as they always did.
var (
	_ gitserver.TB = (*testing.T)(nil)
	_ gitserver.TB = (*testing.B)(nil)
)

// fatalTB is a gitserver.TB outside the testing package, as `jibe demo`
// has: Fatalf records the message and ends the goroutine.
type fatalTB struct {
	dir      string
	msg      string
	cleanups []func()
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fatalTB) TempDir() string   { return f.dir }
func (f *fatalTB) Fatalf(s string, a ...any) {
	f.msg = fmt.Sprintf(s, a...)
	runtime.Goexit()
}

// The server runs for any TB, and reports helper failures through Fatalf.
func TestServerOutsideTesting(t *testing.T) {
	tb := &fatalTB{dir: t.TempDir()}
	srv := gitserver.New(tb)
	srv.CreateRepo("app")
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Repo("missing")
	}()
	<-done
	for _, fn := range slices.Backward(tb.cleanups) {
		fn()
	}
	if !strings.Contains(tb.msg, `no repository "missing"`) {
		t.Errorf("Fatalf message = %q", tb.msg)
	}
}

// treeFiles lists the files at HEAD of r.
func treeFiles(t *testing.T, r *git.Repository) []string {
	t.Helper()
	head, err := r.Head()
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	commit, err := r.CommitObject(head.Hash())
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	files, err := commit.Files()
	if err != nil {
		t.Fatalf("files: %v", err)
	}
	var names []string
	for {
		f, err := files.Next()
		if err != nil {
			break
		}
		names = append(names, f.Name)
	}
	return names
}

func TestFetchSeesPushAndUnchangedPollCostsOneRequest(t *testing.T) {
	srv := gitserver.New(t)
	url := srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{"app.yaml": "v1"}})
	r, err := clone(t, url, nil)
	if err != nil {
		t.Fatalf("clone: %v", err)
	}

	next := repo.Commit(gitserver.Commit{Files: map[string]string{"app.yaml": "v2"}})
	if err := r.Fetch(&git.FetchOptions{}); err != nil {
		t.Fatalf("fetch after push: %v", err)
	}
	ref, err := r.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	if err != nil || ref.Hash().String() != next {
		t.Fatalf("origin/main = %v (%v), want %s", ref, err, next)
	}

	srv.ResetRequests()
	if err := r.Fetch(&git.FetchOptions{}); !errors.Is(err, git.NoErrAlreadyUpToDate) {
		t.Fatalf("unchanged fetch: err = %v, want NoErrAlreadyUpToDate", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("unchanged poll made %d requests, want 1: %+v", len(reqs), reqs)
	}
	got := reqs[0]
	if got.Method != "GET" || got.Path != "/app.git/info/refs" || got.Query != "service=git-upload-pack" || got.Status != 200 {
		t.Fatalf("unchanged poll request = %+v, want GET /app.git/info/refs?service=git-upload-pack -> 200", got)
	}
}

func TestBasicAuth(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithBasicAuth("deploy", "s3cret"))
	url := srv.CreateRepo("app")
	srv.Repo("app").Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})

	if _, err := clone(t, url, &githttp.BasicAuth{Username: "deploy", Password: "s3cret"}); err != nil {
		t.Fatalf("clone with right credentials: %v", err)
	}
	for name, auth := range map[string]transport.AuthMethod{
		"none":           nil,
		"wrong password": &githttp.BasicAuth{Username: "deploy", Password: "nope"},
		"wrong user":     &githttp.BasicAuth{Username: "other", Password: "s3cret"},
	} {
		_, err := clone(t, url, auth)
		if !errors.Is(err, transport.ErrAuthenticationRequired) {
			t.Errorf("clone with %s credentials: err = %v, want ErrAuthenticationRequired", name, err)
		}
	}
	if n := srv.CountRequests(func(r gitserver.Request) bool { return r.Status == 401 }); n != 3 {
		t.Errorf("logged %d 401 responses, want 3", n)
	}
}

func TestTokenAuth(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithToken("ghp_good"))
	url := srv.CreateRepo("app")
	srv.Repo("app").Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})

	if _, err := lsRemote(t, url, &githttp.TokenAuth{Token: "ghp_good"}); err != nil {
		t.Fatalf("bearer token: %v", err)
	}
	if _, err := lsRemote(t, url, &githttp.BasicAuth{Username: "x-access-token", Password: "ghp_good"}); err != nil {
		t.Fatalf("token as basic password: %v", err)
	}
	_, err := lsRemote(t, url, &githttp.TokenAuth{Token: "ghp_bad"})
	if !errors.Is(err, transport.ErrAuthenticationRequired) {
		t.Fatalf("bad token: err = %v, want ErrAuthenticationRequired", err)
	}
}

func TestPushOverHTTPWithAuth(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithBasicAuth("deploy", "s3cret"))
	url := srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})

	auth := &githttp.BasicAuth{Username: "deploy", Password: "s3cret"}
	sha := cloneCommitPush(t, url, auth)
	if got := repo.Head("main"); got != sha {
		t.Fatalf("server main = %s, want pushed %s", got, sha)
	}
}

// cloneCommitPush clones url into a work tree, commits a new file and pushes
// it back with go-git, returning the pushed SHA.
func cloneCommitPush(t *testing.T, url string, auth transport.AuthMethod) string {
	t.Helper()
	work := t.TempDir()
	r, err := git.PlainClone(work, false, &git.CloneOptions{URL: url, Auth: auth})
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	if err := os.WriteFile(filepath.Join(work, "pushed.txt"), []byte("2"), 0o600); err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("pushed.txt"); err != nil {
		t.Fatal(err)
	}
	sha, err := wt.Commit("add pushed.txt", &git.CommitOptions{
		Author: &object.Signature{Name: "Dev", Email: "dev@jibe.dev", When: time.Now()},
	})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := r.Push(&git.PushOptions{Auth: auth}); err != nil {
		t.Fatalf("push: %v", err)
	}
	return sha.String()
}

func TestForcePushAndDeleteBranch(t *testing.T) {
	srv := gitserver.New(t)
	url := srv.CreateRepo("app")
	repo := srv.Repo("app")
	base := repo.Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})
	repo.Commit(gitserver.Commit{Branch: "feature", Parent: base, Files: map[string]string{"x": "2"}})
	repo.Commit(gitserver.Commit{Files: map[string]string{"x": "3"}})

	rewritten := repo.Commit(gitserver.Commit{Parent: base, Files: map[string]string{"x": "rewritten"}})
	refs := mustLsRemote(t, url, nil)
	if refs["refs/heads/main"] != rewritten {
		t.Fatalf("main after rewrite = %s, want %s", refs["refs/heads/main"], rewritten)
	}
	repo.ForcePush("main", base)
	repo.DeleteBranch("feature")
	refs = mustLsRemote(t, url, nil)
	if refs["refs/heads/main"] != base {
		t.Fatalf("main after force push = %s, want %s", refs["refs/heads/main"], base)
	}
	if _, ok := refs["refs/heads/feature"]; ok {
		t.Fatalf("feature still listed after delete: %v", refs)
	}
}

func TestGenerateHistory(t *testing.T) {
	srv := gitserver.New(t)
	url := srv.CreateRepo("big")
	repo := srv.Repo("big")
	tip := repo.GenerateHistory(gitserver.History{Commits: 1000, Files: 2000})

	if got := mustLsRemote(t, url, nil)["refs/heads/main"]; got != tip {
		t.Fatalf("main = %s, want %s", got, tip)
	}
	if n := gitOut(t, repo.Dir(), "rev-list", "--count", tip); n != "1000" {
		t.Errorf("commits = %s, want 1000", n)
	}
	files := strings.Count(gitOut(t, repo.Dir(), "ls-tree", "-r", "--name-only", tip), "\n") + 1
	if files != 2000 {
		t.Errorf("files = %d, want 2000", files)
	}
}

func BenchmarkGenerateHistory(b *testing.B) {
	srv := gitserver.New(b)
	for i := range b.N {
		name := fmt.Sprintf("big%d", i)
		srv.CreateRepo(name)
		srv.Repo(name).GenerateHistory(gitserver.History{Commits: 1000, Files: 2000})
	}
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func TestGitCLICloneAndPushWithCredentials(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithBasicAuth("deploy", "s3cret"))
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{"app.yaml": "v1"}})
	authed := strings.Replace(repo.URL(), "http://", "http://deploy:s3cret@", 1)

	work := filepath.Join(t.TempDir(), "work")
	gitCLI(t, "", "clone", "-q", authed, work)
	if b, err := os.ReadFile(filepath.Join(work, "app.yaml")); err != nil || string(b) != "v1" {
		t.Fatalf("cloned app.yaml = %q, %v", b, err)
	}
	writeFile(t, filepath.Join(work, "app.yaml"), "v2")
	gitCLI(t, work, "-c", "user.name=Dev", "-c", "user.email=dev@jibe.dev", "commit", "-qam", "v2")
	gitCLI(t, work, "push", "-q", "origin", "main")
	if got, want := repo.Head("main"), gitOut(t, work, "rev-parse", "HEAD"); got != want {
		t.Fatalf("server main = %s, want pushed %s", got, want)
	}
	// The CLI speaks protocol v2, which git http-backend serves through CGI.
	if n := srv.CountRequests(func(r gitserver.Request) bool {
		return r.Method == "POST" && strings.HasSuffix(r.Path, "/git-receive-pack")
	}); n != 1 {
		t.Fatalf("receive-pack POSTs = %d, want 1", n)
	}
}

// gitCLI runs the git CLI in dir without user configuration or prompts.
func gitCLI(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
