package githubemu

import (
	"net/http"
	"strings"
)

// Permission is a repository role, as set on a collaborator.
type Permission string

// Repository roles, from most to least privileged.
const (
	PermissionAdmin    Permission = "admin"
	PermissionMaintain Permission = "maintain"
	PermissionWrite    Permission = "write"
	PermissionTriage   Permission = "triage"
	PermissionRead     Permission = "read"
	PermissionNone     Permission = ""
)

// legacy maps a role to the "permission" field of the permission endpoint,
// which only knows admin, write, read and none.
func (p Permission) legacy() string {
	switch p {
	case PermissionAdmin:
		return "admin"
	case PermissionMaintain, PermissionWrite:
		return "write"
	case PermissionTriage, PermissionRead:
		return "read"
	default:
		return "none"
	}
}

// canWrite reports whether the role may push and write issues.
func (p Permission) canWrite() bool {
	return p.legacy() == "admin" || p.legacy() == "write"
}

// TeamRole is a member's role in a team.
type TeamRole string

// Team roles.
const (
	TeamMember     TeamRole = "member"
	TeamMaintainer TeamRole = "maintainer"
)

// permission returns u's role in r: admin for the owning user, else the
// collaborator role.
func (r *repo) permission(u *user) Permission {
	if u == r.owner {
		return PermissionAdmin
	}
	return r.collaborators[strings.ToLower(u.login)]
}

type jsonPermission struct {
	Permission string   `json:"permission"`
	RoleName   string   `json:"role_name"`
	User       jsonUser `json:"user"`
}

// getPermission handles GET .../collaborators/{user}/permission.
func (e *Emulator) getPermission(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	u := e.state.users[strings.ToLower(r.PathValue("user"))]
	if u == nil {
		writeNotFound(w)
		return nil
	}
	p := rp.permission(u)
	writeJSON(w, http.StatusOK, jsonPermission{Permission: p.legacy(), RoleName: roleName(p), User: e.renderUser(u)})
	return nil
}

func roleName(p Permission) string {
	if p == PermissionNone {
		return "none"
	}
	return string(p)
}

// isCollaborator handles GET .../collaborators/{user}: 204 or 404.
func (e *Emulator) isCollaborator(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	u := e.state.users[strings.ToLower(r.PathValue("user"))]
	if u == nil || rp.permission(u) == PermissionNone {
		writeNotFound(w)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type jsonMembership struct {
	URL   string `json:"url"`
	Role  string `json:"role"`
	State string `json:"state"`
}

// getTeamMembership handles GET /orgs/{org}/teams/{slug}/memberships/{user}.
func (e *Emulator) getTeamMembership(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.state.teams[strings.ToLower(r.PathValue("org")+"/"+r.PathValue("slug"))]
	login := r.PathValue("user")
	if t == nil || t.members[strings.ToLower(login)] == "" {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, jsonMembership{
		URL:  e.opts.BaseURL + "/teams/" + itoa(t.id) + "/memberships/" + login,
		Role: string(t.members[strings.ToLower(login)]), State: "active",
	})
}
