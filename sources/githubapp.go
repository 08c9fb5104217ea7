package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jibe-dev/jibe/config"
)

// DefaultGitHubAPIURL is GitHub's REST API root.
const DefaultGitHubAPIURL = "https://api.github.com"

// tokenRefreshMargin is how long before expiry an installation token is
// replaced, so that no fetch starts with a token about to expire.
const tokenRefreshMargin = 10 * time.Minute

// appTokens mints GitHub App installation tokens: a JWT signed with the
// App's key is exchanged for a token that expires in an hour. The token is
// cached and replaced tokenRefreshMargin before it expires. Safe for
// concurrent use; one instance serves every repository of an installation.
type appTokens struct {
	source string
	apiURL string
	app    config.GitHubApp
	client *http.Client
	clock  Clock

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ tokenSource = (*appTokens)(nil)

// Token returns a valid installation token, minting one when the cached
// token is missing or about to expire.
func (a *appTokens) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.clock.Now().Before(a.expires.Add(-tokenRefreshMargin)) {
		return a.token, nil
	}
	tok, exp, err := a.mint(ctx)
	if err != nil {
		return "", err
	}
	a.token, a.expires = tok, exp
	return tok, nil
}

// mint exchanges a fresh App JWT for an installation token.
func (a *appTokens) mint(ctx context.Context) (string, time.Time, error) {
	signed, err := a.jwt()
	if err != nil {
		return "", time.Time{}, err
	}
	url := fmt.Sprintf("%s/app/installations/%d/access_tokens", strings.TrimSuffix(a.apiURL, "/"), a.app.InstallationID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Authorization", "Bearer "+signed)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("source %q: minting a GitHub App installation token: %w", a.source, err)
	}
	defer resp.Body.Close()
	return a.decode(resp)
}

// jwt signs the App's JWT: issued a minute ago (GitHub allows for clock
// drift) and valid for nine minutes (GitHub's limit is ten).
func (a *appTokens) jwt() (string, error) {
	pemKey, err := a.app.PrivateKey.Resolve()
	if err != nil {
		return "", &ConfigError{Source: a.source, Field: "git.auth.githubApp.privateKey", Err: err}
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pemKey.Reveal()))
	if err != nil {
		return "", &ConfigError{Source: a.source, Field: "git.auth.githubApp.privateKey", Err: fmt.Errorf("not an RSA private key in PEM form (from %s)", a.app.PrivateKey)}
	}
	now := a.clock.Now()
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(a.app.AppID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
}

// decode reads the token exchange's answer.
func (a *appTokens) decode(resp *http.Response) (string, time.Time, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", time.Time{}, err
	}
	if resp.StatusCode != http.StatusCreated {
		var msg struct{ Message string }
		_ = json.Unmarshal(body, &msg)
		return "", time.Time{}, &AuthError{
			Source: a.source, URL: a.apiURL,
			Fix: fmt.Sprintf("check git.auth.githubApp: app %d, installation %d and the private key in %s", a.app.AppID, a.app.InstallationID, a.app.PrivateKey),
			Err: fmt.Errorf("minting an installation token: %s %s", resp.Status, msg.Message),
		}
	}
	var tok struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		return "", time.Time{}, fmt.Errorf("source %q: GitHub returned no installation token", a.source)
	}
	return tok.Token, tok.ExpiresAt, nil
}
