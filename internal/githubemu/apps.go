package githubemu

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token lifetimes GitHub enforces for apps.
const (
	maxJWTLifetime       = 10 * time.Minute
	installationTokenTTL = time.Hour
)

// GitHub's 401 messages for app JWTs.
const (
	msgJWTUndecodable = "A JSON web token could not be decoded"
	msgJWTExpired     = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTTooLong     = "'Expiration time' claim ('exp') is too far in the future"
	msgJWTIssuedLater = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
)

// App is a GitHub App registered in the emulator.
type App struct {
	// ID is the app ID, the "iss" of its JWTs.
	ID int64
	// Slug is the app's URL name; its bot user is "<slug>[bot]".
	Slug string
	// PrivateKey signs the app's JWTs.
	PrivateKey *rsa.PrivateKey
	// PrivateKeyPEM is PrivateKey in the PKCS#1 PEM form GitHub hands out.
	PrivateKeyPEM []byte
}

// JWT returns an RS256 JWT for the app issued at now minus 60 seconds
// and expiring 9 minutes after now, as GitHub recommends.
func (a *App) JWT(now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": strconv.FormatInt(a.ID, 10),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.PrivateKey)
	if err != nil {
		return "", fmt.Errorf("sign app jwt: %w", err)
	}
	return s, nil
}

// AddApp registers a GitHub App with a new 2048-bit RSA key.
func (e *Emulator) AddApp(slug string) (*App, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate app key: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a := &app{id: e.state.id(), slug: slug, key: &key.PublicKey}
	a.bot = e.state.userByLogin(slug + "[bot]")
	a.bot.kind = kindBot
	e.state.apps[a.id] = a
	return &App{
		ID: a.id, Slug: slug, PrivateKey: key,
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}, nil
}

// AddInstallation installs the app on account (a user or organization,
// created if new) and returns the installation ID. Its tokens see only
// that account's repositories.
func (e *Emulator) AddInstallation(appID int64, account string) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.state.apps[appID]
	if a == nil {
		return 0, fmt.Errorf("githubemu: no app %d", appID)
	}
	inst := &installation{id: e.state.id(), app: a, account: e.state.userByLogin(account)}
	e.state.installations[inst.id] = inst
	return inst.id, nil
}

// authenticateApp verifies an app JWT and returns the app's identity, or
// nil and GitHub's 401 message.
func (e *Emulator) authenticateApp(raw string) (*identity, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var a *app
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.opts.Now),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		a = e.state.apps[issuer(claims)]
		if a == nil {
			return nil, errors.New("unknown issuer")
		}
		return a.key, nil
	})
	if msg := jwtError(err); msg != "" {
		return nil, msg
	}
	if exp, _ := claims.GetExpirationTime(); exp.Sub(e.opts.Now()) > maxJWTLifetime {
		return nil, msgJWTTooLong
	}
	return &identity{user: a.bot, app: a, bucket: "app:" + strconv.FormatInt(a.id, 10)}, ""
}

// issuer returns the "iss" claim as an app ID; GitHub accepts it as a
// number or a string.
func issuer(c jwt.MapClaims) int64 {
	switch v := c["iss"].(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// jwtError maps a JWT validation error to GitHub's message.
func jwtError(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return msgJWTExpired
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return msgJWTIssuedLater
	default:
		return msgJWTUndecodable
	}
}

type jsonInstallationToken struct {
	Token               string            `json:"token"`
	ExpiresAt           string            `json:"expires_at"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
}

// createInstallationToken handles POST /app/installations/{id}/access_tokens.
func (e *Emulator) createInstallationToken(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id, _ := pathID(r, "id")
	inst := e.state.installations[id]
	if inst == nil || inst.app != caller(r).app {
		writeNotFound(w)
		return
	}
	value := "ghs_" + randomHex(18)
	expires := e.now().Add(installationTokenTTL)
	e.state.tokens[value] = &token{inst: inst, expires: expires}
	writeJSON(w, http.StatusCreated, jsonInstallationToken{
		Token: value, ExpiresAt: timestamp(expires), RepositorySelection: "all",
		Permissions: map[string]string{
			"contents": "read", "metadata": "read", "statuses": "write",
			"pull_requests": "write", "issues": "write", "members": "read",
		},
	})
}

// getApp handles GET /app, the authenticated app.
func (e *Emulator) getApp(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := caller(r).app
	writeJSON(w, http.StatusOK, map[string]any{
		"id": a.id, "slug": a.slug, "name": a.slug, "node_id": nodeID("App", a.id),
		"html_url": e.opts.BaseURL + "/apps/" + a.slug,
	})
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
