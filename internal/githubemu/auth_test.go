package githubemu_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

func TestTokenSchemesAndBadCredentials(t *testing.T) {
	e := setup(t, githubemu.Options{})
	for _, auth := range []string{"token " + botToken, "Bearer " + botToken} {
		if resp := rawGet(t, e, "/repos/acme/app", auth); resp.StatusCode != 200 {
			t.Errorf("%q: status %d, want 200", auth, resp.StatusCode)
		}
	}
	for auth, msg := range map[string]string{"token wrong": "Bad credentials", "": "Requires authentication"} {
		resp := rawGet(t, e, "/repos/acme/app", auth)
		var body struct{ Message, DocumentationURL string }
		json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != 401 || body.Message != msg {
			t.Errorf("%q: %d %q, want 401 %q", auth, resp.StatusCode, body.Message, msg)
		}
	}
	_, _, err := client(t, e, "ghp_unknown").Repositories.Get(t.Context(), owner, repoName)
	errorResponse(t, err, 401)
}

func TestEnterpriseURLPrefix(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c, err := github.NewClient(nil).WithAuthToken(botToken).WithEnterpriseURLs(e.URL(), e.URL())
	if err != nil {
		t.Fatal(err)
	}
	if r, _, err := c.Repositories.Get(t.Context(), owner, repoName); err != nil || r.GetFullName() != fullName {
		t.Fatalf("GET via /api/v3: %v %v", r, err)
	}
}

// appSetup registers an app installed on acme and returns it with the
// installation ID.
func appSetup(t *testing.T, e *githubemu.Emulator) (*githubemu.App, int64) {
	t.Helper()
	app, err := e.AddApp("jibe")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := e.AddInstallation(app.ID, owner)
	if err != nil {
		t.Fatal(err)
	}
	return app, inst
}

func TestAppJWTExchangedForInstallationToken(t *testing.T) {
	clock := newFakeClock()
	e := setup(t, githubemu.Options{Now: clock.Now})
	if err := e.AddRepo("other/repo"); err != nil {
		t.Fatal(err)
	}
	app, inst := appSetup(t, e)
	ctx := t.Context()

	jwtStr, err := app.JWT(clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, resp, err := client(t, e, jwtStr).Apps.CreateInstallationToken(ctx, inst, nil)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create installation token: %v", err)
	}
	if !tok.GetExpiresAt().Time.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("expires_at = %v, want an hour from now", tok.GetExpiresAt())
	}

	c := client(t, e, tok.GetToken())
	st, _, err := createStatus(ctx, c, shaA, "success", "jibe", "")
	if err != nil || st.GetCreator().GetLogin() != "jibe[bot]" || st.GetCreator().GetType() != "Bot" {
		t.Fatalf("status as installation: %v %v, want creator jibe[bot] of type Bot", st.GetCreator(), err)
	}
	_, _, err = c.Repositories.Get(ctx, "other", "repo")
	errorResponse(t, err, 404)

	clock.Step(time.Hour)
	_, _, err = client(t, e, tok.GetToken()).Repositories.Get(ctx, owner, repoName)
	if er := errorResponse(t, err, 401); er.Message != "Bad credentials" {
		t.Fatalf("expired installation token: %q, want Bad credentials", er.Message)
	}
}

func TestBadAppJWTIsRejected(t *testing.T) {
	clock := newFakeClock()
	e := setup(t, githubemu.Options{Now: clock.Now})
	app, inst := appSetup(t, e)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	sign := func(key *rsa.PrivateKey, iat, exp time.Time) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iat": iat.Unix(), "exp": exp.Unix(), "iss": strconv.FormatInt(app.ID, 10),
		}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := map[string]struct{ jwt, message string }{
		"wrong key":    {sign(otherKey, now, now.Add(5*time.Minute)), "A JSON web token could not be decoded"},
		"expired":      {sign(app.PrivateKey, now.Add(-20*time.Minute), now.Add(-10*time.Minute)), "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"},
		"too long":     {sign(app.PrivateKey, now, now.Add(time.Hour)), "'Expiration time' claim ('exp') is too far in the future"},
		"not a jwt":    {"ghp_jibe", "A JSON web token could not be decoded"},
		"future issue": {sign(app.PrivateKey, now.Add(5*time.Minute), now.Add(9*time.Minute)), "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := client(t, e, tt.jwt).Apps.CreateInstallationToken(t.Context(), inst, nil)
			if er := errorResponse(t, err, 401); er.Message != tt.message {
				t.Fatalf("message = %q, want %q", er.Message, tt.message)
			}
		})
	}
}

// Under the Enterprise prefix the Link header's pages keep /api/v3, as
// GitHub Enterprise Server's do, so a client following them stays on the
// API.
func TestEnterprisePaginationLinksKeepThePrefix(t *testing.T) {
	e := setup(t, githubemu.Options{})
	for range 3 {
		mustCreateStatus(t, client(t, e, botToken), shaA, "success", "ci")
	}
	resp := rawGet(t, e, "/api/v3/repos/"+fullName+"/commits/"+shaA+"/statuses?per_page=1", "token "+botToken)
	link := resp.Header.Get("Link")
	if resp.StatusCode != 200 || !contains(link, "/api/v3/repos/"+fullName+"/commits/"+shaA+"/statuses?page=2&per_page=1>; rel=\"next\"") {
		t.Fatalf("status %d, Link %q; want pages under /api/v3", resp.StatusCode, link)
	}
	resp = rawGet(t, e, "/repos/"+fullName+"/commits/"+shaA+"/statuses?per_page=1", "token "+botToken)
	if link := resp.Header.Get("Link"); contains(link, "/api/v3") {
		t.Fatalf("Link %q without the prefix in the request", link)
	}
}
