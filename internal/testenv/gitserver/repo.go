package gitserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultBranch is the branch HEAD points to in repositories made by CreateRepo.
const DefaultBranch = "main"

// Repo is a bare repository on the server, with helpers that change it the
// way a team pushing to it would. Helpers write to the bare repository
// directly (git fast-import, git update-ref), so they do not show up in the
// request log; clients see the result exactly as if it had been pushed.
// Helpers fail the test on error and must be called from the test goroutine.
type Repo struct {
	srv  *Server
	name string
	dir  string
	mu   sync.Mutex // serializes helper writes

	hookMu sync.Mutex
	hooks  []func()
}

// CreateRepo creates an empty bare repository with HEAD on DefaultBranch and
// returns its HTTP clone URL. Pushes over HTTP and SSH are allowed.
// A ".git" suffix is appended to name unless present.
func (s *Server) CreateRepo(name string) string {
	s.t.Helper()
	r := &Repo{srv: s, name: repoFile(name), dir: s.repoDir(name)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[r.name]; ok {
		s.t.Fatalf("gitserver: repository %q already exists", r.name)
	}
	if _, err := runGit(context.Background(), "", nil, "init", "--bare", "-q", "-b", DefaultBranch, r.dir); err != nil {
		s.t.Fatalf("gitserver: %v", err)
	}
	if _, err := runGit(context.Background(), r.dir, nil, "config", "http.receivepack", "true"); err != nil {
		s.t.Fatalf("gitserver: %v", err)
	}
	s.repos[r.name] = r
	return r.URL()
}

// Repo returns the repository created as name, failing the test if there is none.
func (s *Server) Repo(name string) *Repo {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repoFile(name)]
	if !ok {
		s.t.Fatalf("gitserver: no repository %q", name)
	}
	return r
}

// URL returns the HTTP clone URL of the repository.
func (r *Repo) URL() string { return r.srv.URL() + "/" + r.name }

// SSHURL returns the SSH clone URL of the repository (user "git"). It fails
// the test when the server was not started WithSSH.
func (r *Repo) SSHURL() string {
	r.srv.t.Helper()
	if r.srv.ssh == nil {
		r.srv.t.Fatalf("gitserver: server was not started WithSSH")
	}
	return "ssh://git@" + r.srv.ssh.Addr() + "/" + r.name
}

// Dir returns the path of the bare repository on disk.
func (r *Repo) Dir() string { return r.dir }

// Commit describes one commit made by Repo.Commit.
type Commit struct {
	// Branch receives the commit; DefaultBranch when empty.
	Branch string
	// Message is the commit message; a generated one when empty.
	Message string
	// Files maps slash-separated paths to their new content.
	Files map[string]string
	// Delete lists paths to remove.
	Delete []string
	// Parent, when set, is the revision the commit is built on instead of
	// the branch tip, and the branch is moved to it even if that is not a
	// fast-forward (a force push). Use "-" for a commit without parents.
	Parent string
	// Merge lists further parents (revisions), making a merge commit. Its
	// tree is the first parent's with Files and Delete applied, so pass
	// the merged branch's changes in Files.
	Merge []string
	// Author is "Name <email>"; "Jibe Test <test@jibe.dev>" when empty.
	Author string
	// When is the author and committer time; now when zero.
	When time.Time
}

// Commit creates one commit on c.Branch (creating the branch if needed) and
// returns its SHA. Without c.Parent the update must be a fast-forward, as a
// plain push would have to be.
func (r *Repo) Commit(c Commit) string {
	r.srv.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c = c.withDefaults()
	var stream bytes.Buffer
	merges := make([]string, len(c.Merge))
	for i, m := range c.Merge {
		merges[i] = r.mustRevParse(m)
	}
	c.Merge = merges
	writeCommit(&stream, c, r.parentOf(c))
	args := []string{"fast-import", "--quiet"}
	if c.Parent != "" {
		args = append(args, "--force")
	}
	if _, err := runGit(context.Background(), r.dir, &stream, args...); err != nil {
		r.srv.t.Fatalf("gitserver: commit to %s: %v", c.Branch, err)
	}
	return r.mustRevParse("refs/heads/" + c.Branch)
}

func (c Commit) withDefaults() Commit {
	if c.Branch == "" {
		c.Branch = DefaultBranch
	}
	if c.Message == "" {
		c.Message = fmt.Sprintf("change %d files", len(c.Files)+len(c.Delete))
	}
	if c.Author == "" {
		c.Author = "Jibe Test <test@jibe.dev>"
	}
	if c.When.IsZero() {
		c.When = time.Now()
	}
	return c
}

// parentOf returns the fast-import "from" operand: the explicit parent, or
// the branch tip when the branch exists, or "" for a root commit.
func (r *Repo) parentOf(c Commit) string {
	switch c.Parent {
	case "-":
		return ""
	case "":
		return r.Head(c.Branch)
	default:
		return r.mustRevParse(c.Parent)
	}
}

// writeCommit writes one fast-import commit command. from may be empty.
func writeCommit(w io.Writer, c Commit, from string) {
	ts := fmt.Sprintf("%d +0000", c.When.Unix())
	fmt.Fprintf(w, "commit refs/heads/%s\n", c.Branch)
	fmt.Fprintf(w, "author %s %s\ncommitter %s %s\n", c.Author, ts, c.Author, ts)
	writeData(w, c.Message)
	if from != "" {
		fmt.Fprintf(w, "from %s\n", from)
	}
	for _, m := range c.Merge {
		fmt.Fprintf(w, "merge %s\n", m)
	}
	if c.Parent == "-" {
		fmt.Fprint(w, "deleteall\n")
	}
	for _, p := range sortedKeys(c.Files) {
		fmt.Fprintf(w, "M 100644 inline %s\n", cleanPath(p))
		writeData(w, c.Files[p])
	}
	for _, p := range c.Delete {
		fmt.Fprintf(w, "D %s\n", cleanPath(p))
	}
	fmt.Fprint(w, "\n")
}

func writeData(w io.Writer, s string) {
	fmt.Fprintf(w, "data %d\n%s\n", len(s), s)
}

func cleanPath(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ForcePush moves branch to rev (any revision, e.g. an older SHA or
// "main~2"), creating the branch if needed, as `git push --force` would.
func (r *Repo) ForcePush(branch, rev string) {
	r.srv.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	sha := r.mustRevParse(rev)
	r.mustGit("update-ref", "refs/heads/"+branch, sha)
}

// DeleteBranch removes branch, as `git push --delete` would.
func (r *Repo) DeleteBranch(branch string) {
	r.srv.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mustGit("update-ref", "-d", "refs/heads/"+branch)
}

// Tag creates or moves the lightweight tag name to rev.
func (r *Repo) Tag(name, rev string) {
	r.srv.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mustGit("update-ref", "refs/tags/"+name, r.mustRevParse(rev))
}

// UpdateRef creates or moves any reference (e.g. "refs/pull/7/head", as
// GitHub keeps one per pull request) to rev.
func (r *Repo) UpdateRef(ref, rev string) {
	r.srv.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mustGit("update-ref", ref, r.mustRevParse(rev))
}

// Head returns the SHA branch points to, or "" if the branch does not exist.
func (r *Repo) Head(branch string) string {
	r.srv.t.Helper()
	out, err := runGit(context.Background(), r.dir, nil, "rev-parse", "-q", "--verify", "refs/heads/"+branch+"^{commit}")
	if err != nil {
		return ""
	}
	return out
}

func (r *Repo) mustRevParse(rev string) string {
	r.srv.t.Helper()
	return r.mustGit("rev-parse", "--verify", rev+"^{commit}")
}

func (r *Repo) mustGit(args ...string) string {
	r.srv.t.Helper()
	out, err := runGit(context.Background(), r.dir, nil, args...)
	if err != nil {
		r.srv.t.Fatalf("gitserver: %v", err)
	}
	return out
}

// runGit runs git in dir (the current directory when empty), isolated from
// the user's and system's configuration, and returns its trimmed stdout.
func runGit(ctx context.Context, dir string, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Env = gitEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// gitEnv is the environment of git subprocesses.
func gitEnv() []string {
	return append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
	)
}
