package githubemu

import (
	"encoding/base64"
	"fmt"
	"time"
)

// The json* types are the shapes GitHub sends. Fields GitHub sends as
// null are pointers without omitempty.

type jsonUser struct {
	Login     string `json:"login"`
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	AvatarURL string `json:"avatar_url"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	Type      string `json:"type"`
	SiteAdmin bool   `json:"site_admin"`
}

type jsonRepo struct {
	ID            int64    `json:"id"`
	NodeID        string   `json:"node_id"`
	Name          string   `json:"name"`
	FullName      string   `json:"full_name"`
	Private       bool     `json:"private"`
	Owner         jsonUser `json:"owner"`
	HTMLURL       string   `json:"html_url"`
	Description   *string  `json:"description"`
	Fork          bool     `json:"fork"`
	URL           string   `json:"url"`
	CloneURL      string   `json:"clone_url"`
	DefaultBranch string   `json:"default_branch"`
	Visibility    string   `json:"visibility"`
}

// nodeID returns a GitHub-looking global node ID.
func nodeID(kind string, id int64) string {
	return base64.RawStdEncoding.EncodeToString([]byte(fmt.Sprintf("0:%s%d", kind, id)))
}

// timestamp formats t as GitHub does.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// optTimestamp formats t, or returns nil for the zero time.
func optTimestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (e *Emulator) renderUser(u *user) jsonUser {
	if u == nil {
		return jsonUser{}
	}
	base := e.opts.BaseURL
	return jsonUser{
		Login: u.login, ID: u.id, NodeID: nodeID(string(u.kind), u.id),
		AvatarURL: fmt.Sprintf("%s/avatars/u/%d", base, u.id),
		URL:       base + "/users/" + u.login, HTMLURL: base + "/" + u.login,
		Type: string(u.kind),
	}
}

func (e *Emulator) optUser(u *user) *jsonUser {
	if u == nil {
		return nil
	}
	j := e.renderUser(u)
	return &j
}

func (e *Emulator) renderRepo(r *repo) jsonRepo {
	base := e.opts.BaseURL
	return jsonRepo{
		ID: r.id, NodeID: nodeID("Repository", r.id), Name: r.name, FullName: r.fullName(),
		Private: true, Owner: e.renderUser(r.owner), HTMLURL: base + "/" + r.fullName(),
		URL: e.repoURL(r), CloneURL: base + "/" + r.fullName() + ".git",
		DefaultBranch: r.defaultBranch, Visibility: "private",
	}
}

// repoURL is the API URL of r.
func (e *Emulator) repoURL(r *repo) string {
	return e.opts.BaseURL + "/repos/" + r.fullName()
}
