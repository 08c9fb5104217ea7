package sources

import (
	"reflect"
	"testing"

	"github.com/jibe-dev/jibe/config"
)

func TestAppFilter(t *testing.T) {
	tests := []struct {
		globs   []string
		dir     string
		hasSpec bool
		isApp   bool
		descend bool
	}{
		{nil, "apps/web", true, true, true},
		{nil, "apps/web", false, false, true},
		{nil, ".", true, true, true},
		{[]string{"apps/*"}, "apps/web", true, true, false},
		{[]string{"apps/*"}, "apps", true, false, true},
		{[]string{"apps/*"}, ".", false, false, true},
		{[]string{"apps/*"}, "other", true, false, false},
		{[]string{"apps/*"}, "apps/web/nested", true, false, false},
		{[]string{"/teams/*/apps/*/"}, "teams/a/apps/web", true, true, false},
		{[]string{"teams/*/apps/*"}, "teams/a", false, false, true},
	}
	for _, tt := range tests {
		f, err := newAppFilter(tt.globs)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.isApp(tt.dir, tt.hasSpec); got != tt.isApp {
			t.Errorf("globs %v: isApp(%q, %v) = %v, want %v", tt.globs, tt.dir, tt.hasSpec, got, tt.isApp)
		}
		if got := f.descend(tt.dir); got != tt.descend {
			t.Errorf("globs %v: descend(%q) = %v, want %v", tt.globs, tt.dir, got, tt.descend)
		}
	}
	if _, err := newAppFilter([]string{"apps/["}); err == nil {
		t.Error("a malformed glob was accepted")
	}
}

func TestDiffApps(t *testing.T) {
	prev := map[string]string{"a": "1", "b": "2", "c": "3"}
	next := map[string]string{"a": "1", "b": "20", "d": "4"}
	want := []appChange{{"a", ChangeUnchanged}, {"b", ChangeModified}, {"c", ChangeRemoved}, {"d", ChangeAdded}}
	if got := diffApps(prev, next); !reflect.DeepEqual(got, want) {
		t.Fatalf("diffApps = %v, want %v", got, want)
	}
}

func TestPullRequestOf(t *testing.T) {
	tests := []struct {
		message string
		want    int
	}{
		{"Merge pull request #12 from acme/feature\n\nAdd things", 12},
		{"Add things (#34)\n\n* commit 1\n* commit 2", 34},
		{"Fix #12 in the parser", 0},
		{"Plain commit", 0},
	}
	for _, tt := range tests {
		got := pullRequestOf(tt.message)
		if (got == nil && tt.want != 0) || (got != nil && got.Number != tt.want) {
			t.Errorf("pullRequestOf(%q) = %v, want %d", tt.message, got, tt.want)
		}
	}
}

func TestPollerMatchesRepository(t *testing.T) {
	p := &poller{url: "https://github.com/Acme/App.git", repoName: githubName(&config.GitSource{URL: "https://github.com/Acme/App.git"})}
	for _, repo := range []string{"acme/app", "https://github.com/acme/app", "git@github.com:acme/app.git", "ssh://git@github.com/Acme/App"} {
		if !p.matches(repo) {
			t.Errorf("%q does not match %s", repo, p.url)
		}
	}
	for _, repo := range []string{"acme/other", "https://gitlab.com/acme/app", "app"} {
		if p.matches(repo) {
			t.Errorf("%q matches %s", repo, p.url)
		}
	}
}
