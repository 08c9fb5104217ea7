package sources

import (
	"encoding/json"
	"errors"
)

// HintKind says which GitHub event a Hint comes from.
type HintKind int

// Hint kinds.
const (
	// HintPullRequest is a pull_request event (opened, synchronize,
	// closed, ...).
	HintPullRequest HintKind = iota + 1
	// HintPullRequestReview is a pull_request_review event (submitted,
	// dismissed, ...).
	HintPullRequestReview
)

// String returns the GitHub event name.
func (k HintKind) String() string {
	switch k {
	case HintPullRequest:
		return "pull_request"
	case HintPullRequestReview:
		return "pull_request_review"
	}
	return "unknown"
}

// Hint is a pull request event received by webhook. Like pushes, it is a
// hint to look at GitHub, not a fact to act on: consumers confirm through
// the API before relying on it.
type Hint struct {
	// Kind is the event.
	Kind HintKind
	// Delivery is the X-GitHub-Delivery ID.
	Delivery string
	// Repository is the GitHub "owner/name".
	Repository string
	// Action is the event's action, e.g. "opened", "synchronize",
	// "closed", "submitted", "dismissed".
	Action string
	// Number is the pull request number.
	Number int
	// HeadRef and HeadSHA are the pull request's branch and tip.
	HeadRef, HeadSHA string
	// BaseRef is the branch the pull request targets.
	BaseRef string
	// Merged and MergeCommitSHA are set once the pull request is merged.
	Merged         bool
	MergeCommitSHA string
	// Sender is the login that caused the event.
	Sender string
	// Review is the review of a HintPullRequestReview; nil otherwise.
	Review *ReviewHint
}

// ReviewHint is the review of a pull_request_review event.
type ReviewHint struct {
	// ID is the review ID.
	ID int64
	// User is the reviewer's login.
	User string
	// State is the review state in lower case, e.g. "approved",
	// "changes_requested", "commented", "dismissed".
	State string
	// CommitID is the reviewed commit.
	CommitID string
}

type login struct {
	Login string `json:"login"`
}

type pullEvent struct {
	Action      string `json:"action"`
	PullRequest struct {
		Number         int     `json:"number"`
		Merged         bool    `json:"merged"`
		MergeCommitSHA *string `json:"merge_commit_sha"`
		Head           struct {
			Ref string `json:"ref"`
			SHA string `json:"sha"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	Review *struct {
		ID       int64  `json:"id"`
		User     login  `json:"user"`
		State    string `json:"state"`
		CommitID string `json:"commit_id"`
	} `json:"review"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender login `json:"sender"`
}

// parseHint reads a pull_request or pull_request_review payload.
func parseHint(event string, body []byte) (Hint, error) {
	var e pullEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return Hint{}, err
	}
	if e.PullRequest.Number == 0 || e.Repository.FullName == "" {
		return Hint{}, errors.New("no pull request")
	}
	pr := e.PullRequest
	h := Hint{
		Kind: HintPullRequest, Repository: e.Repository.FullName, Action: e.Action, Number: pr.Number,
		HeadRef: pr.Head.Ref, HeadSHA: pr.Head.SHA, BaseRef: pr.Base.Ref, Merged: pr.Merged, Sender: e.Sender.Login,
	}
	if pr.MergeCommitSHA != nil && pr.Merged {
		h.MergeCommitSHA = *pr.MergeCommitSHA
	}
	if event == "pull_request_review" {
		if e.Review == nil {
			return Hint{}, errors.New("no review")
		}
		h.Kind = HintPullRequestReview
		h.Review = &ReviewHint{ID: e.Review.ID, User: e.Review.User.Login, State: e.Review.State, CommitID: e.Review.CommitID}
	}
	return h, nil
}
