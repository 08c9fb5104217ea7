package sources

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/jibe-dev/jibe/config"
)

// Credentials are a Git source's own credentials, for code that writes to
// its repository (sources/bump pushes artifact bumps with them). Secrets
// are resolved at each use and never logged.
type Credentials struct {
	creds *credentials
	// URL is the repository's URL, as configured (it may embed a
	// password: show it through RedactURL).
	URL string
	// Branch is the branch the source deploys.
	Branch string
	// Repository is the repository's GitHub "owner/name" (git.repository,
	// or the last two segments of the URL), lower-cased.
	Repository string
}

// Credentials returns the credentials of the named Git source, sharing
// its poller's GitHub App tokens.
func (g *Git) Credentials(source string) (*Credentials, error) {
	p := g.pollerOf(source)
	if p == nil {
		return nil, fmt.Errorf("no Git source named %q", source)
	}
	return &Credentials{creds: p.creds, URL: p.url, Branch: p.branch, Repository: p.repoName}, nil
}

// NewCredentials returns the credentials of the Git source src on their
// own, for a process that does not poll it. opts gives the state
// directory (known_hosts written from a variable), and the GitHub API,
// HTTP client and clock GitHub App tokens are minted with.
func NewCredentials(src config.Source, opts GitOptions) (*Credentials, error) {
	if src.Git == nil {
		return nil, &ConfigError{Source: src.Name, Field: "git", Err: errors.New("not a Git source")}
	}
	g := NewGit(opts)
	gs := src.Git
	branch := orDefault(gs.Branch, defaultBranch)
	p := g.newPoller(src.Name, gs, branch, DefaultPollInterval)
	return &Credentials{creds: p.creds, URL: p.url, Branch: p.branch, Repository: p.repoName}, nil
}

// Method returns the go-git auth method for one operation; nil for
// anonymous access.
func (c *Credentials) Method(ctx context.Context) (transport.AuthMethod, error) {
	return c.creds.method(ctx)
}

// Classify turns a transport error into this package's typed errors
// (AuthError, HostKeyError, RepositoryNotFoundError), naming the source
// and what to fix, never a secret.
func (c *Credentials) Classify(err error) error {
	return c.creds.classify(err)
}

// Fix says which setting to check after the server refused the
// credentials.
func (c *Credentials) Fix() string { return c.creds.fix() }

// Auth returns the source's configured authentication, nil for none.
func (c *Credentials) Auth() *config.GitAuth { return c.creds.auth }

// RedactURL drops any password embedded in a URL before it is shown.
func RedactURL(url string) string { return redactURL(url) }
