package githubemu

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// StatusState is the state of a commit status.
type StatusState string

// The states GitHub accepts for a commit status.
const (
	StatusError   StatusState = "error"
	StatusFailure StatusState = "failure"
	StatusPending StatusState = "pending"
	StatusSuccess StatusState = "success"
)

// Limits GitHub enforces on commit statuses.
const (
	maxDescription      = 140
	maxStatusesPerSHACx = 1000
)

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

type jsonStatus struct {
	URL         string   `json:"url"`
	AvatarURL   *string  `json:"avatar_url"`
	ID          int64    `json:"id"`
	NodeID      string   `json:"node_id"`
	State       string   `json:"state"`
	Description *string  `json:"description"`
	TargetURL   *string  `json:"target_url"`
	Context     string   `json:"context"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	Creator     jsonUser `json:"creator"`
}

type jsonCombinedStatus struct {
	State      string       `json:"state"`
	Statuses   []jsonStatus `json:"statuses"`
	SHA        string       `json:"sha"`
	TotalCount int          `json:"total_count"`
	Repository jsonRepo     `json:"repository"`
	CommitURL  string       `json:"commit_url"`
	URL        string       `json:"url"`
}

func (e *Emulator) renderStatus(rp *repo, sha string, s *status) jsonStatus {
	return jsonStatus{
		URL: e.repoURL(rp) + "/statuses/" + sha, AvatarURL: optString(e.renderUser(s.creator).AvatarURL),
		ID: s.id, NodeID: nodeID("StatusContext", s.id), State: s.state,
		Description: optString(s.description), TargetURL: optString(s.targetURL), Context: s.context,
		CreatedAt: timestamp(s.created), UpdatedAt: timestamp(s.created), Creator: e.renderUser(s.creator),
	}
}

type statusRequest struct {
	State       string  `json:"state"`
	TargetURL   *string `json:"target_url"`
	Description *string `json:"description"`
	Context     *string `json:"context"`
}

// createStatus handles POST /repos/{owner}/{repo}/statuses/{sha}.
func (e *Emulator) createStatus(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	sha := strings.ToLower(r.PathValue("sha"))
	var req statusRequest
	if !decodeBody(w, r, &req) {
		return nil
	}
	if !fullSHA.MatchString(sha) {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+r.PathValue("sha"), docStatuses)
		return nil
	}
	s := &status{
		state: req.State, targetURL: deref(req.TargetURL), description: deref(req.Description),
		context: deref(req.Context), creator: caller(r).user, created: e.now(),
	}
	if s.context == "" {
		s.context = "default"
	}
	if errs := validateStatus(s); len(errs) > 0 {
		writeValidation(w, docStatuses, errs...)
		return nil
	}
	if countContext(rp.statuses[sha], s.context) >= maxStatusesPerSHACx {
		writeValidation(w, docStatuses, fieldError{Resource: "Status", Code: "custom",
			Message: "This SHA and context has reached the maximum number of statuses."})
		return nil
	}
	s.id = e.state.id()
	rp.statuses[sha] = append(rp.statuses[sha], s)
	writeJSON(w, http.StatusCreated, e.renderStatus(rp, sha, s))
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// validateStatus returns GitHub's validation errors for s.
func validateStatus(s *status) []fieldError {
	var errs []fieldError
	custom := func(field, msg string) {
		errs = append(errs, fieldError{Resource: "Status", Code: "custom", Field: field, Message: msg})
	}
	switch StatusState(s.state) {
	case StatusError, StatusFailure, StatusPending, StatusSuccess:
	case "":
		errs = append(errs, fieldError{Resource: "Status", Code: "missing_field", Field: "state"})
	default:
		custom("state", "state is not included in the list")
	}
	if utf8.RuneCountInString(s.description) > maxDescription {
		custom("description", "description is too long (maximum is 140 characters)")
	}
	if s.targetURL != "" && !isHTTPURL(s.targetURL) {
		custom("target_url", "target_url must use http(s) scheme")
	}
	return errs
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// countContext counts the statuses with context, case-insensitively.
func countContext(statuses []*status, context string) int {
	n := 0
	for _, s := range statuses {
		if sameContext(s.context, context) {
			n++
		}
	}
	return n
}

// commitsSubresource dispatches GET /repos/{o}/{r}/commits/{ref}/statuses,
// .../status and .../pulls; refs may contain slashes, as branch names do.
func (e *Emulator) commitsSubresource(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	rest := r.PathValue("rest")
	i := strings.LastIndex(rest, "/")
	if i <= 0 {
		writeNotFound(w)
		return nil
	}
	ref, sub := rest[:i], rest[i+1:]
	switch sub {
	case "statuses":
		e.listStatuses(w, r, rp, ref)
	case "status":
		e.combinedStatus(w, r, rp, ref)
	case "pulls":
		e.pullsForCommit(w, r, rp, ref)
	default:
		writeNotFound(w)
	}
	return nil
}

// resolveRef returns the SHA a branch name or SHA refers to, writing
// GitHub's 422 when there is none.
func resolveRef(w http.ResponseWriter, rp *repo, ref string) (string, bool) {
	if sha, ok := rp.branches[ref]; ok {
		return sha, true
	}
	if fullSHA.MatchString(strings.ToLower(ref)) {
		return strings.ToLower(ref), true
	}
	writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref, docREST)
	return "", false
}

// listStatuses answers with every status of the commit, newest first.
func (e *Emulator) listStatuses(w http.ResponseWriter, r *http.Request, rp *repo, ref string) {
	sha, ok := resolveRef(w, rp, ref)
	if !ok {
		return
	}
	all := rp.statuses[sha]
	out := make([]jsonStatus, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		out = append(out, e.renderStatus(rp, sha, all[i]))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out, 30))
}

// combinedStatus answers with the latest status per context and the
// combined state.
func (e *Emulator) combinedStatus(w http.ResponseWriter, r *http.Request, rp *repo, ref string) {
	sha, ok := resolveRef(w, rp, ref)
	if !ok {
		return
	}
	latest := latestPerContext(rp.statuses[sha])
	out := make([]jsonStatus, 0, len(latest))
	for _, s := range latest {
		out = append(out, e.renderStatus(rp, sha, s))
	}
	writeJSON(w, http.StatusOK, jsonCombinedStatus{
		State: string(combinedState(latest)), Statuses: paginate(w, r, out, 100), SHA: sha,
		TotalCount: len(latest), Repository: e.renderRepo(rp),
		CommitURL: e.repoURL(rp) + "/commits/" + sha, URL: e.repoURL(rp) + "/commits/" + sha + "/status",
	})
}

// latestPerContext returns the newest status of each context (compared
// case-insensitively), newest first.
func latestPerContext(all []*status) []*status {
	var out []*status
	for i := len(all) - 1; i >= 0; i-- {
		if countContext(out, all[i].context) == 0 {
			out = append(out, all[i])
		}
	}
	return out
}

// combinedState applies GitHub's rules: failure if any context is error or
// failure, pending if there are none or any is pending, else success.
func combinedState(latest []*status) StatusState {
	if len(latest) == 0 {
		return StatusPending
	}
	state := StatusSuccess
	for _, s := range latest {
		switch StatusState(s.state) {
		case StatusError, StatusFailure:
			return StatusFailure
		case StatusPending:
			state = StatusPending
		}
	}
	return state
}
