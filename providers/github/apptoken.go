package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
)

// tokenRefreshMargin is how long before expiry an installation token is
// replaced, so that no request starts with a token about to expire.
const tokenRefreshMargin = 10 * time.Minute

// ErrAppKey is returned (wrapped) when the App's private key cannot be read
// or is not an RSA key in PEM form: a configuration problem.
var ErrAppKey = errors.New("the GitHub App private key is unusable")

// AppTokenError is GitHub refusing to mint an installation token.
type AppTokenError struct {
	// Status is the HTTP status and Message GitHub's message.
	Status, Message string
}

// Error says what GitHub answered.
func (e *AppTokenError) Error() string {
	return fmt.Sprintf("minting an installation token: %s %s", e.Status, e.Message)
}

// AppTokens mints GitHub App installation tokens: a JWT signed with the
// App's key is exchanged for a token that expires in an hour. The token is
// cached and replaced ten minutes before it expires. Safe for concurrent
// use; one AppTokens serves every repository of an installation.
type AppTokens struct {
	apiURL string
	app    config.GitHubApp
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewAppTokens returns the token source of app's installation, minting at
// the REST API root apiURL with client (http.DefaultClient when nil) and
// the clock clk (the wall clock when nil).
func NewAppTokens(app config.GitHubApp, apiURL string, client *http.Client, clk clock.PassiveClock) *AppTokens {
	if client == nil {
		client = http.DefaultClient
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &AppTokens{apiURL: strings.TrimSuffix(apiURL, "/"), app: app, client: client, now: clk.Now}
}

// Token returns a valid installation token, minting one when the cached
// token is missing or about to expire.
func (a *AppTokens) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.now().Before(a.expires.Add(-tokenRefreshMargin)) {
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
func (a *AppTokens) mint(ctx context.Context) (string, time.Time, error) {
	signed, err := a.jwt()
	if err != nil {
		return "", time.Time{}, err
	}
	url := fmt.Sprintf("%s/app/installations/%d/access_tokens", a.apiURL, a.app.InstallationID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Authorization", "Bearer "+signed)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("minting a GitHub App installation token: %w", err)
	}
	defer resp.Body.Close()
	return decodeToken(resp)
}

// jwt signs the App's JWT: issued a minute ago (GitHub allows for clock
// drift) and valid for nine minutes (GitHub's limit is ten).
func (a *AppTokens) jwt() (string, error) {
	pemKey, err := a.app.PrivateKey.Resolve()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAppKey, err)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pemKey.Reveal()))
	if err != nil {
		return "", fmt.Errorf("%w: not an RSA private key in PEM form (from %s)", ErrAppKey, a.app.PrivateKey)
	}
	now := a.now()
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(a.app.AppID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
}

// decodeToken reads the token exchange's answer.
func decodeToken(resp *http.Response) (string, time.Time, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", time.Time{}, err
	}
	if resp.StatusCode != http.StatusCreated {
		var msg struct{ Message string }
		_ = json.Unmarshal(body, &msg)
		return "", time.Time{}, &AppTokenError{Status: resp.Status, Message: msg.Message}
	}
	var tok struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		return "", time.Time{}, errors.New("GitHub returned no installation token")
	}
	return tok.Token, tok.ExpiresAt, nil
}

// Transport returns a RoundTripper that authenticates each request with
// a current installation token, for go-github clients. base is
// http.DefaultTransport when nil.
func (a *AppTokens) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &appTransport{tokens: a, base: base}
}

type appTransport struct {
	tokens *AppTokens
	base   http.RoundTripper
}

// RoundTrip sends req with an installation token.
func (t *appTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.tokens.Token(req.Context())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	return t.base.RoundTrip(req)
}
