package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/github"
)

// DefaultGitHubAPIURL is GitHub's REST API root.
const DefaultGitHubAPIURL = "https://api.github.com"

// appTokens mints installation tokens for one source through
// github.AppTokens, turning its errors into the source's typed errors.
type appTokens struct {
	source string
	apiURL string
	app    config.GitHubApp
	tokens *github.AppTokens
}

var _ tokenSource = (*appTokens)(nil)

func newAppTokens(source, apiURL string, app config.GitHubApp, client *http.Client, clk clock.PassiveClock) *appTokens {
	return &appTokens{source: source, apiURL: apiURL, app: app, tokens: github.NewAppTokens(app, apiURL, client, clk)}
}

// Token returns a valid installation token.
func (a *appTokens) Token(ctx context.Context) (string, error) {
	tok, err := a.tokens.Token(ctx)
	var refused *github.AppTokenError
	switch {
	case err == nil:
		return tok, nil
	case errors.Is(err, github.ErrAppKey):
		return "", &ConfigError{Source: a.source, Field: "git.auth.githubApp.privateKey", Err: err}
	case errors.As(err, &refused):
		return "", &AuthError{
			Source: a.source, URL: a.apiURL,
			Fix: fmt.Sprintf("check git.auth.githubApp: app %d, installation %d and the private key in %s", a.app.AppID, a.app.InstallationID, a.app.PrivateKey),
			Err: err,
		}
	}
	return "", fmt.Errorf("source %q: %w", a.source, err)
}
