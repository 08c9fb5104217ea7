package githubemu

import (
	"crypto/rsa"
	"strings"
	"time"
)

// state is everything the emulator stores; guarded by Emulator.mu.
type state struct {
	nextID        int64
	users         map[string]*user // by lowercased login
	repos         map[string]*repo // by lowercased "owner/name"
	teams         map[string]*team // by lowercased "org/slug"
	tokens        map[string]*token
	apps          map[int64]*app
	installations map[int64]*installation
}

func newState() *state {
	return &state{
		users: map[string]*user{}, repos: map[string]*repo{}, teams: map[string]*team{},
		tokens: map[string]*token{}, apps: map[int64]*app{}, installations: map[int64]*installation{},
	}
}

// id returns a fresh ID; IDs are unique across all kinds of objects.
func (s *state) id() int64 {
	s.nextID++
	return s.nextID
}

// accountKind is GitHub's "type" of an account.
type accountKind string

const (
	kindUser accountKind = "User"
	kindOrg  accountKind = "Organization"
	kindBot  accountKind = "Bot"
)

type user struct {
	id    int64
	login string
	kind  accountKind
}

type repo struct {
	id            int64
	owner         *user
	name          string
	defaultBranch string
	branches      map[string]string    // branch → SHA
	statuses      map[string][]*status // SHA → statuses, oldest first
	pulls         map[int]*pull
	comments      map[int][]*comment // issue number → comments, oldest first
	collaborators map[string]Permission
	nextNumber    int
	git           GitRepo                     // linked Git repository, nil when none
	protection    map[string]BranchProtection // by branch
}

func (r *repo) fullName() string { return r.owner.login + "/" + r.name }

type status struct {
	id          int64
	state       string
	description string
	targetURL   string
	context     string
	creator     *user
	created     time.Time
}

type pull struct {
	id             int64
	number         int
	title, body    string
	author         *user
	head, base     branchRef
	draft          bool
	closed, merged bool
	created        time.Time
	updated        time.Time
	closedAt       time.Time
	mergeCommitSHA string
	mergedBy       *user
	headSHAs       []string // every head SHA the pull request has had
	reviews        []*review
}

type branchRef struct {
	ref string
	sha string
}

type review struct {
	id        int64
	user      *user
	body      string
	state     ReviewState
	commitID  string
	submitted time.Time // zero while pending
}

type comment struct {
	id      int64
	issue   int
	body    string
	user    *user
	created time.Time
	updated time.Time
}

type team struct {
	id      int64
	org     *user
	slug    string
	members map[string]TeamRole
}

type token struct {
	user    *user
	inst    *installation // nil for personal access tokens
	expires time.Time     // zero: never
}

type app struct {
	id   int64
	slug string
	key  *rsa.PublicKey
	bot  *user
}

type installation struct {
	id      int64
	app     *app
	account *user
}

// userByLogin returns the user, creating a User account if it is new.
func (s *state) userByLogin(login string) *user {
	key := strings.ToLower(login)
	if u, ok := s.users[key]; ok {
		return u
	}
	u := &user{id: s.id(), login: login, kind: kindUser}
	s.users[key] = u
	return u
}

// repoByName returns the repository "owner/name", case-insensitively.
func (s *state) repoByName(owner, name string) *repo {
	return s.repos[strings.ToLower(owner+"/"+name)]
}

// sameContext reports whether two status contexts are the same; GitHub
// compares them case-insensitively.
func sameContext(a, b string) bool { return strings.EqualFold(a, b) }
