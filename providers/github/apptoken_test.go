package github

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/config"
)

// The reporter posts as a GitHub App installation: the token is minted
// from the App's key, reused while valid, and refreshed before it expires.
func TestAppTokensPostStatuses(t *testing.T) {
	f := newFixture(t)
	app, err := f.emu.AddApp("jibe")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := f.emu.AddInstallation(app.ID, "acme")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, app.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tokens := NewAppTokens(config.GitHubApp{AppID: app.ID, InstallationID: inst, PrivateKey: config.SecretRef{File: keyFile}},
		f.emu.URL(), nil, f.clock.Clock)
	gh := github.NewClient(&http.Client{Transport: tokens.Transport(nil)})
	gh.BaseURL, _ = url.Parse(f.emu.URL() + "/")
	r := NewReporter(gh, ReporterOptions{Clock: f.clock.Clock})

	r.Post(status("jibe/shop/staging", StateSuccess, "ok"))
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.clock.Clock.Step(30 * time.Minute) // still valid: reused
	r.Post(status("jibe/shop/production", StateSuccess, "ok"))
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.clock.Clock.Step(25 * time.Minute) // within the refresh margin: minted again
	r.Post(status("jibe/shop/qa", StateSuccess, "ok"))
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := f.emu.Statuses("acme/shop", sha)
	if len(got) != 3 || got[0].Creator != "jibe[bot]" {
		t.Fatalf("statuses = %+v", got)
	}
	if n := f.emu.CountRequests("POST", "/app/installations/*/access_tokens"); n != 2 {
		t.Errorf("minted %d tokens, want 2", n)
	}
}

func TestAppTokensErrors(t *testing.T) {
	f := newFixture(t)
	app, _ := f.emu.AddApp("jibe")
	inst, _ := f.emu.AddInstallation(app.ID, "acme")
	missing := NewAppTokens(config.GitHubApp{AppID: app.ID, InstallationID: inst, PrivateKey: config.SecretRef{File: "/nonexistent/app.pem"}}, f.emu.URL(), nil, f.clock.Clock)
	if _, err := missing.Token(context.Background()); !errors.Is(err, ErrAppKey) {
		t.Errorf("missing key: %v", err)
	}
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	os.WriteFile(keyFile, app.PrivateKeyPEM, 0o600)
	wrongInstallation := NewAppTokens(config.GitHubApp{AppID: app.ID, InstallationID: 999, PrivateKey: config.SecretRef{File: keyFile}}, f.emu.URL(), nil, f.clock.Clock)
	var refused *AppTokenError
	if _, err := wrongInstallation.Token(context.Background()); !errors.As(err, &refused) || refused.Status != "404 Not Found" {
		t.Errorf("unknown installation: %v", err)
	}
}
