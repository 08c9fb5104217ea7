package gitserver_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

func TestReadOnlyTokenFetchesButCannotPush(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithReadOnlyToken("ro"), gitserver.WithToken("rw"))
	url := srv.CreateRepo("app")
	srv.Repo("app").Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})

	ro := &githttp.BasicAuth{Username: "x-access-token", Password: "ro"}
	work := t.TempDir()
	r, err := git.PlainClone(work, false, &git.CloneOptions{URL: url, Auth: ro})
	if err != nil {
		t.Fatalf("clone with a read-only token: %v", err)
	}
	commitFile(t, r, work)
	if err := r.Push(&git.PushOptions{Auth: ro}); !errors.Is(err, transport.ErrAuthorizationFailed) {
		t.Fatalf("push with a read-only token: err = %v, want ErrAuthorizationFailed", err)
	}
	if err := r.Push(&git.PushOptions{Auth: &githttp.BasicAuth{Username: "x", Password: "rw"}}); err != nil {
		t.Fatalf("push with a write token: %v", err)
	}
}

func TestOnPushRunsBeforeThePushReturns(t *testing.T) {
	srv := gitserver.New(t)
	url := srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})
	var seen map[string]string
	repo.OnPush(func() {
		b, err := repo.Branches()
		if err != nil {
			t.Error(err)
		}
		seen = b
	})
	sha := cloneCommitPush(t, url, nil)
	if seen["main"] != sha {
		t.Fatalf("the hook saw main at %q, want the pushed %s", seen["main"], sha)
	}
}

func TestMergeBranchesAndSetRef(t *testing.T) {
	srv := gitserver.New(t)
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	base := repo.Commit(gitserver.Commit{Files: map[string]string{"a": "1", "b": "1"}})
	head := repo.Commit(gitserver.Commit{Branch: "topic", Parent: base, Files: map[string]string{"b": "2"}})
	repo.Commit(gitserver.Commit{Files: map[string]string{"a": "2"}})
	if err := repo.SetRef("refs/pull/1/head", head); err != nil {
		t.Fatal(err)
	}
	merged, err := repo.MergeBranches("main", "topic", "Merge topic", "Reviewer <r@jibe.dev>")
	if err != nil {
		t.Fatal(err)
	}
	if got := repo.Head("main"); got != merged {
		t.Fatalf("main = %s, want the merge %s", got, merged)
	}
	repo.Commit(gitserver.Commit{Branch: "clash", Parent: merged, Files: map[string]string{"a": "3"}})
	repo.Commit(gitserver.Commit{Files: map[string]string{"a": "4"}})
	if _, err := repo.MergeBranches("main", "clash", "Merge clash", "R <r@jibe.dev>"); err == nil {
		t.Fatal("conflicting branches merged")
	}
}

func commitFile(t *testing.T, r *git.Repository, work string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(work, "new.txt"), []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("new.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Commit("new", &git.CommitOptions{Author: &object.Signature{Name: "Dev", Email: "d@jibe.dev", When: time.Now()}}); err != nil {
		t.Fatal(err)
	}
}
