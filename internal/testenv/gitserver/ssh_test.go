package gitserver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// sshAuth returns go-git SSH auth with key, checking host keys against the
// known_hosts file at path.
func sshAuth(t *testing.T, key gitserver.ClientKey, knownHostsPath string) *gitssh.PublicKeys {
	t.Helper()
	cb, err := gitssh.NewKnownHostsCallback(knownHostsPath)
	if err != nil {
		t.Fatalf("known hosts: %v", err)
	}
	auth := &gitssh.PublicKeys{User: "git", Signer: key.Signer}
	auth.HostKeyCallback = cb
	return auth
}

func TestSSHCloneAndPushWithKnownHost(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithSSH())
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	first := repo.Commit(gitserver.Commit{Files: map[string]string{"app.yaml": "v1"}})
	auth := sshAuth(t, srv.SSH().NewClientKey(), srv.SSH().WriteKnownHosts())

	r, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: repo.SSHURL(), Auth: auth})
	if err != nil {
		t.Fatalf("ssh clone: %v", err)
	}
	head, _ := r.Head()
	if head.Hash().String() != first {
		t.Fatalf("cloned HEAD = %s, want %s", head.Hash(), first)
	}

	second := repo.Commit(gitserver.Commit{Files: map[string]string{"app.yaml": "v2"}})
	if err := r.Fetch(&git.FetchOptions{Auth: auth}); err != nil {
		t.Fatalf("ssh fetch: %v", err)
	}
	ref, _ := r.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	if ref == nil || ref.Hash().String() != second {
		t.Fatalf("origin/main after fetch = %v, want %s", ref, second)
	}
	pushed := cloneCommitPush(t, repo.SSHURL(), auth)
	if got := repo.Head("main"); got != pushed {
		t.Fatalf("server main after ssh push = %s, want %s", got, pushed)
	}
	if cmds := srv.SSH().Commands(); len(cmds) != 4 || !strings.HasPrefix(cmds[3], "git-receive-pack") {
		t.Fatalf("ssh commands = %q, want 3 git-upload-pack then git-receive-pack", cmds)
	}
}

func TestSSHRejectsUnknownOrChangedHostKey(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithSSH())
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})
	key := srv.SSH().NewClientKey()
	other := gitserver.New(t, gitserver.WithSSH()).SSH()

	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown")
	writeFile(t, unknown, other.KnownHostsLine()+"\n")
	changed := filepath.Join(dir, "changed")
	writeFile(t, changed, knownhosts.Line([]string{knownhosts.Normalize(srv.SSH().Addr())}, other.HostKey())+"\n")

	for name, path := range map[string]string{"unknown host": unknown, "changed host key": changed} {
		_, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: repo.SSHURL(), Auth: sshAuth(t, key, path)})
		if err == nil || !strings.Contains(err.Error(), "knownhosts") {
			t.Errorf("%s: clone err = %v, want a knownhosts error", name, err)
		}
	}
	if cmds := srv.SSH().Commands(); len(cmds) != 0 {
		t.Fatalf("commands ran despite host key rejection: %q", cmds)
	}
}

func TestSSHRejectsUnauthorizedClientKey(t *testing.T) {
	srv := gitserver.New(t, gitserver.WithSSH())
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	repo.Commit(gitserver.Commit{Files: map[string]string{"x": "1"}})
	stranger := gitserver.New(t, gitserver.WithSSH()).SSH().NewClientKey()

	_, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{
		URL: repo.SSHURL(), Auth: sshAuth(t, stranger, srv.SSH().WriteKnownHosts()),
	})
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("clone with unauthorized key: err = %v, want unable to authenticate", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
