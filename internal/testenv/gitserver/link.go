package gitserver

import (
	"context"
	"fmt"
	"strings"
)

// The methods in this file return errors instead of failing the test, so
// that another server (the GitHub emulator linked to the repository) may
// call them from its own goroutines.

// OnPush registers f to run after every successful push over HTTP, before
// the pushing client sees its push complete. Pushes made by the helpers
// (Commit, ForcePush) do not run it.
func (r *Repo) OnPush(f func()) {
	r.hookMu.Lock()
	defer r.hookMu.Unlock()
	r.hooks = append(r.hooks, f)
}

func (r *Repo) runPushHooks() {
	r.hookMu.Lock()
	hooks := append([]func(){}, r.hooks...)
	r.hookMu.Unlock()
	for _, f := range hooks {
		f()
	}
}

// Branches returns every branch and the SHA it points to.
func (r *Repo) Branches() (map[string]string, error) {
	out, err := runGit(context.Background(), r.dir, nil, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/heads/")
	if err != nil {
		return nil, err
	}
	branches := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if name, sha, ok := strings.Cut(line, " "); ok {
			branches[name] = sha
		}
	}
	return branches, nil
}

// SetRef points ref (a full name such as "refs/pull/3/head") at sha.
func (r *Repo) SetRef(ref, sha string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := runGit(context.Background(), r.dir, nil, "update-ref", ref, sha)
	return err
}

// MergeBranches merges head into base with a merge commit by author
// ("Name <email>"), as GitHub's merge button does, and returns the merge
// commit. It fails when the branches conflict or base moved meanwhile.
func (r *Repo) MergeBranches(base, head, message, author string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx := context.Background()
	baseSHA, err := runGit(ctx, r.dir, nil, "rev-parse", "--verify", "refs/heads/"+base+"^{commit}")
	if err != nil {
		return "", err
	}
	tree, err := runGit(ctx, r.dir, nil, "merge-tree", "--write-tree", "--no-messages", baseSHA, "refs/heads/"+head)
	if err != nil {
		return "", fmt.Errorf("merging %s into %s: the branches conflict: %w", head, base, err)
	}
	name, email, _ := strings.Cut(strings.TrimSuffix(author, ">"), " <")
	cmd := []string{"-c", "user.name=" + name, "-c", "user.email=" + email,
		"commit-tree", strings.Fields(tree)[0], "-p", baseSHA, "-p", "refs/heads/" + head, "-m", message}
	sha, err := runGit(ctx, r.dir, nil, cmd...)
	if err != nil {
		return "", err
	}
	_, err = runGit(ctx, r.dir, nil, "update-ref", "refs/heads/"+base, sha, baseSHA)
	return sha, err
}

// Ref returns the commit ref (a full name such as "refs/pull/3/head")
// points to.
func (r *Repo) Ref(ref string) (string, error) {
	return runGit(context.Background(), r.dir, nil, "rev-parse", "--verify", ref+"^{commit}")
}
