package sources

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/jibe-dev/jibe/config"
)

// defaultTokenUser is the user name sent with tokens, as GitHub expects
// for installation tokens and accepts for personal access tokens.
const defaultTokenUser = "x-access-token"

// tokenSource mints short-lived tokens (GitHub App installation tokens).
type tokenSource interface {
	Token(ctx context.Context) (string, error)
}

// credentials turn a source's GitAuth into go-git auth methods. Secrets
// are resolved at every poll, so a rotated secret file is picked up
// without a restart, and are never logged.
type credentials struct {
	source string
	url    string
	auth   *config.GitAuth
	app    tokenSource
	// knownHostsDir is where known_hosts given in an environment variable
	// are written, since the known_hosts parser reads files.
	knownHostsDir string
}

// method returns the go-git auth method for one poll; nil for anonymous
// access.
func (c *credentials) method(ctx context.Context) (transport.AuthMethod, error) {
	a := c.auth
	switch {
	case a == nil:
		return nil, nil
	case a.GitHubApp != nil:
		tok, err := c.app.Token(ctx)
		if err != nil {
			return nil, err
		}
		return &githttp.BasicAuth{Username: defaultTokenUser, Password: tok}, nil
	case a.Token != nil:
		return c.basic(orDefault(a.Username, defaultTokenUser), *a.Token, "git.auth.token")
	case a.Password != nil:
		return c.basic(a.Username, *a.Password, "git.auth.password")
	case a.SSHKey != nil:
		return c.ssh()
	}
	return nil, nil
}

func (c *credentials) basic(user string, ref config.SecretRef, field string) (transport.AuthMethod, error) {
	s, err := ref.Resolve()
	if err != nil {
		return nil, &ConfigError{Source: c.source, Field: field, Err: err}
	}
	return &githttp.BasicAuth{Username: user, Password: s.Reveal()}, nil
}

// ssh returns public-key auth that checks the server's host key against
// the configured known_hosts. Without known_hosts it refuses to connect
// rather than trust any key.
func (c *credentials) ssh() (transport.AuthMethod, error) {
	key, err := c.auth.SSHKey.Resolve()
	if err != nil {
		return nil, &ConfigError{Source: c.source, Field: "git.auth.sshKey", Err: err}
	}
	if c.auth.KnownHosts == nil {
		return nil, &ConfigError{Source: c.source, Field: "git.auth.knownHosts", Err: errors.New("required with sshKey, so that the server's identity is checked")}
	}
	pk, err := gitssh.NewPublicKeys(sshUser(c.url), []byte(key.Reveal()+"\n"), "")
	if err != nil {
		return nil, &ConfigError{Source: c.source, Field: "git.auth.sshKey", Err: errors.New("not a valid unencrypted PEM private key")}
	}
	file, err := c.knownHostsFile()
	if err != nil {
		return nil, err
	}
	db, err := gitssh.NewKnownHostsDb(file)
	if err != nil {
		return nil, &ConfigError{Source: c.source, Field: "git.auth.knownHosts", Err: err}
	}
	pk.HostKeyCallback = db.HostKeyCallback()
	pk.HostKeyAlgorithms = db.HostKeyAlgorithms(sshHostPort(c.url))
	return pk, nil
}

// knownHostsFile returns a file holding the configured known_hosts.
func (c *credentials) knownHostsFile() (string, error) {
	ref := *c.auth.KnownHosts
	if ref.File != "" {
		return ref.File, nil
	}
	s, err := ref.Resolve()
	if err != nil {
		return "", &ConfigError{Source: c.source, Field: "git.auth.knownHosts", Err: err}
	}
	path := filepath.Join(c.knownHostsDir, "known_hosts")
	if old, err := os.ReadFile(path); err == nil && string(old) == s.Reveal()+"\n" {
		return path, nil
	}
	if err := os.MkdirAll(c.knownHostsDir, 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(s.Reveal()+"\n"), 0o600)
}

// classify turns a transport error into one of this package's errors,
// naming the source and what to fix.
func (c *credentials) classify(err error) error {
	var keyErr *knownhosts.KeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &keyErr):
		return &HostKeyError{Source: c.source, Host: sshHostPort(c.url), Err: err}
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		strings.Contains(err.Error(), "unable to authenticate"):
		return &AuthError{Source: c.source, URL: redactURL(c.url), Fix: c.fix(), Err: errors.New(authReason(err))}
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return &RepositoryNotFoundError{Source: c.source, URL: redactURL(c.url)}
	}
	return fmt.Errorf("source %q: %s: %w", c.source, redactURL(c.url), err)
}

// authReason keeps the transport's reason without anything it might echo.
func authReason(err error) string {
	switch {
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return "authorization failed"
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return "authentication required"
	}
	return "ssh: unable to authenticate"
}

// fix says which setting to check after the server refused access.
func (c *credentials) fix() string {
	a := c.auth
	switch {
	case a == nil:
		return "the repository needs credentials: set git.auth"
	case a.GitHubApp != nil:
		return fmt.Sprintf("check that GitHub App %d installation %d may read the repository", a.GitHubApp.AppID, a.GitHubApp.InstallationID)
	case a.Token != nil:
		return fmt.Sprintf("check the token in %s: it is wrong, expired or cannot read the repository", a.Token)
	case a.Password != nil:
		return fmt.Sprintf("check git.auth.username %q and the password in %s", a.Username, a.Password)
	case a.SSHKey != nil:
		return fmt.Sprintf("check that the key in %s is authorized on the server", a.SSHKey)
	}
	return "check git.auth"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sshUser returns the user of an SSH URL, "git" when it names none.
func sshUser(url string) string {
	ep, err := transport.NewEndpoint(url)
	if err != nil || ep.User == "" {
		return "git"
	}
	return ep.User
}

// sshHostPort returns the "host:port" of an SSH URL, as known_hosts
// lookups need it.
func sshHostPort(url string) string {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return url
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(ep.Host, fmt.Sprint(port))
}

// redactURL drops any password embedded in a URL before it is shown.
func redactURL(url string) string {
	ep, err := transport.NewEndpoint(url)
	if err != nil || ep.Password == "" {
		return url
	}
	ep.Password = ""
	return ep.String()
}
