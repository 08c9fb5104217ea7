package sources

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// secretFile writes a secret into a file and returns its reference.
func secretFile(t *testing.T, value string) *config.SecretRef {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &config.SecretRef{File: p}
}

func TestGitHTTPSCredentials(t *testing.T) {
	_, repo, first := newAppsRepo(t, gitserver.WithBasicAuth("deploy", "s3cret-pw"), gitserver.WithToken("ghp_goodtoken"))
	t.Setenv("JIBE_TEST_TOKEN", "ghp_goodtoken")
	tests := []struct {
		name string
		auth *config.GitAuth
	}{
		{"token", &config.GitAuth{Token: &config.SecretRef{Env: "JIBE_TEST_TOKEN"}}},
		{"basic", &config.GitAuth{Username: "deploy", Password: secretFile(t, "s3cret-pw")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := gitSourceFor(repo.URL())
			src.Git.Auth = tt.auth
			if u := pollOne(t, newTestGit(t, src, GitOptions{})); u.Commit.SHA != first {
				t.Fatalf("commit %s", u.Commit.SHA)
			}
		})
	}
}

func TestGitBadCredentialsNameTheSourceAndTheFix(t *testing.T) {
	_, repo, _ := newAppsRepo(t, gitserver.WithToken("ghp_goodtoken"))
	t.Setenv("JIBE_BAD_TOKEN", "ghp_wrong-and-secret")
	tests := []struct {
		name string
		auth *config.GitAuth
		fix  string
	}{
		{"wrong token", &config.GitAuth{Token: &config.SecretRef{Env: "JIBE_BAD_TOKEN"}}, "check the token in environment variable JIBE_BAD_TOKEN"},
		{"no credentials", nil, "the repository needs credentials: set git.auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := gitSourceFor(repo.URL())
			src.Git.Auth = tt.auth
			g := newTestGit(t, src, GitOptions{})
			_, err := g.PollOnce(t.Context())
			var authErr *AuthError
			if !errors.As(err, &authErr) || !Stalling(err) {
				t.Fatalf("error = %v, want a stalling AuthError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `source "apps"`) || !strings.Contains(msg, tt.fix) || strings.Contains(msg, "wrong-and-secret") {
				t.Fatalf("error %q should name the source and %q, and never the secret", msg, tt.fix)
			}
			if st := g.Status()[0]; st.LastError == nil || st.ConsecutiveFailures != 1 {
				t.Fatalf("status = %+v", st)
			}
		})
	}
}

func TestGitMissingSecretIsAConfigError(t *testing.T) {
	_, repo, _ := newAppsRepo(t)
	src := gitSourceFor(repo.URL())
	src.Git.Auth = &config.GitAuth{Token: &config.SecretRef{Env: "JIBE_UNSET_VARIABLE"}}
	_, err := newTestGit(t, src, GitOptions{}).PollOnce(t.Context())
	var cfgErr *ConfigError
	if !errors.As(err, &cfgErr) || cfgErr.Field != "git.auth.token" || !strings.Contains(err.Error(), "JIBE_UNSET_VARIABLE") {
		t.Fatalf("error = %v, want a ConfigError naming git.auth.token and the variable", err)
	}
}

func TestGitSSHChecksKnownHosts(t *testing.T) {
	srv, repo, first := newAppsRepo(t, gitserver.WithSSH())
	key := srv.SSH().NewClientKey()
	sshSource := func(knownHosts *config.SecretRef) config.Source {
		src := gitSourceFor(repo.SSHURL())
		src.Git.Auth = &config.GitAuth{SSHKey: secretFile(t, string(key.PEM)), KnownHosts: knownHosts}
		return src
	}

	t.Run("known host", func(t *testing.T) {
		known := &config.SecretRef{File: srv.SSH().WriteKnownHosts()}
		if u := pollOne(t, newTestGit(t, sshSource(known), GitOptions{})); u.Commit.SHA != first {
			t.Fatalf("commit %s", u.Commit.SHA)
		}
		if len(srv.SSH().Commands()) == 0 {
			t.Fatal("the SSH server ran no command")
		}
	})
	t.Run("known_hosts from an environment variable", func(t *testing.T) {
		t.Setenv("JIBE_KNOWN_HOSTS", srv.SSH().KnownHostsLine())
		if u := pollOne(t, newTestGit(t, sshSource(&config.SecretRef{Env: "JIBE_KNOWN_HOSTS"}), GitOptions{})); u.Commit.SHA != first {
			t.Fatalf("commit %s", u.Commit.SHA)
		}
	})
	t.Run("unknown host key is refused", func(t *testing.T) {
		impostor := gitserver.New(t, gitserver.WithSSH()).SSH().HostKey()
		line := knownhosts.Line([]string{knownhosts.Normalize(srv.SSH().Addr())}, impostor)
		_, err := newTestGit(t, sshSource(secretFile(t, line)), GitOptions{}).PollOnce(t.Context())
		var hostErr *HostKeyError
		if !errors.As(err, &hostErr) || !Stalling(err) || !strings.Contains(err.Error(), "knownHosts") {
			t.Fatalf("error = %v, want a HostKeyError", err)
		}
	})
	t.Run("host missing from known_hosts is refused", func(t *testing.T) {
		other := gitserver.New(t, gitserver.WithSSH()).SSH()
		_, err := newTestGit(t, sshSource(&config.SecretRef{File: other.WriteKnownHosts()}), GitOptions{}).PollOnce(t.Context())
		var hostErr *HostKeyError
		if !errors.As(err, &hostErr) {
			t.Fatalf("error = %v, want a HostKeyError", err)
		}
	})
	t.Run("unauthorized key", func(t *testing.T) {
		src := sshSource(&config.SecretRef{File: srv.SSH().WriteKnownHosts()})
		stranger := gitserver.New(t, gitserver.WithSSH()).SSH().NewClientKey()
		src.Git.Auth.SSHKey = secretFile(t, string(stranger.PEM))
		_, err := newTestGit(t, src, GitOptions{}).PollOnce(t.Context())
		var authErr *AuthError
		if !errors.As(err, &authErr) || !strings.Contains(err.Error(), "is authorized on the server") {
			t.Fatalf("error = %v, want an AuthError", err)
		}
	})
}

// githubGitHost serves the repositories of srv to clients authenticating
// with tokens that GitHub (the emulator) accepts for repo, as GitHub's Git
// host does for installation tokens.
func githubGitHost(t *testing.T, srv *gitserver.Server, gh *githubemu.Emulator, repo string) string {
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, token, _ := r.BasicAuth()
		req, _ := http.NewRequestWithContext(r.Context(), "GET", gh.URL()+"/repos/"+repo, nil)
		req.Header.Set("Authorization", "token "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="github"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		resp.Body.Close()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h.URL
}

func TestGitHubAppTokensAreMintedAndRefreshed(t *testing.T) {
	clock := newFakeClock()
	gh := githubemu.Start(t, githubemu.Options{Now: clock.Now})
	if err := gh.AddRepo("acme/app"); err != nil {
		t.Fatal(err)
	}
	ghApp, err := gh.AddApp("jibe")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := gh.AddInstallation(ghApp.ID, "acme")
	if err != nil {
		t.Fatal(err)
	}
	srv, _, first := newAppsRepo(t)
	host := githubGitHost(t, srv, gh, "acme/app")

	src := gitSourceFor(host + "/app.git")
	src.Git.Auth = &config.GitAuth{GitHubApp: &config.GitHubApp{
		AppID: ghApp.ID, InstallationID: inst, PrivateKey: *secretFile(t, string(ghApp.PrivateKeyPEM)),
	}}
	g := newTestGit(t, src, GitOptions{Clock: clock, GitHubAPIURL: gh.URL()})
	minted := func() int { return gh.CountRequests("POST", "/app/installations/*/access_tokens") }

	if u := pollOne(t, g); u.Commit.SHA != first {
		t.Fatalf("commit %s", u.Commit.SHA)
	}
	clock.Step(30 * time.Minute)
	if _, err := g.PollOnce(t.Context()); err != nil || minted() != 1 {
		t.Fatalf("second poll: err %v, %d tokens minted, want the cached one", err, minted())
	}
	// Installation tokens live an hour; the next poll must not use one
	// about to expire.
	clock.Step(25 * time.Minute)
	if _, err := g.PollOnce(t.Context()); err != nil || minted() != 2 {
		t.Fatalf("poll near expiry: err %v, %d tokens minted, want a fresh one", err, minted())
	}
	if n := srv.CountRequests(func(r gitserver.Request) bool { return r.Status != http.StatusOK }); n != 0 {
		t.Fatalf("%d Git requests failed", n)
	}
}

func TestGitHubAppWrongKeyIsAnAuthError(t *testing.T) {
	gh := githubemu.Start(t, githubemu.Options{})
	ghApp, _ := gh.AddApp("jibe")
	other, _ := gh.AddApp("other")
	inst, _ := gh.AddInstallation(ghApp.ID, "acme")
	_, repo, _ := newAppsRepo(t)
	src := gitSourceFor(repo.URL())
	src.Git.Auth = &config.GitAuth{GitHubApp: &config.GitHubApp{
		AppID: ghApp.ID, InstallationID: inst, PrivateKey: *secretFile(t, string(other.PrivateKeyPEM)),
	}}
	_, err := newTestGit(t, src, GitOptions{GitHubAPIURL: gh.URL()}).PollOnce(t.Context())
	var authErr *AuthError
	if !errors.As(err, &authErr) || !strings.Contains(err.Error(), "check git.auth.githubApp") {
		t.Fatalf("error = %v, want an AuthError about the GitHub App", err)
	}
}
