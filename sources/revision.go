package sources

import (
	"io/fs"
	"time"
)

// Revision is one application's folder as it is in one commit (or, for Dir
// sources, in one content snapshot). A Revision never changes: Files keeps
// returning the same content however far the source moves on.
type Revision struct {
	// Source is the name of the configured source.
	Source string
	// App is the application's folder relative to the repository root,
	// slash-separated ("." for the root itself).
	App string
	// Commit identifies the snapshot the revision was taken from: the Git
	// commit SHA, or "sha256:<hex>" content hash of a Dir source's folder.
	Commit string
	// Digest identifies the folder's content: the Git tree hash of the
	// folder, or "sha256:<hex>" of its files for Dir sources. Two revisions
	// with the same Digest have the same files.
	Digest string
	// Files holds the application's files, rooted at its folder, for
	// spec.LoadFS.
	Files fs.FS
	// PullRequest is the pull request that brought the commit, when the
	// commit message names one; nil otherwise.
	PullRequest *PullRequestRef
}

// PullRequestRef names a pull request.
type PullRequestRef struct {
	// Number is the pull request number.
	Number int
}

// Commit describes the commit (or Dir snapshot) an Update is at.
type Commit struct {
	// SHA is the Git commit SHA, or the "sha256:<hex>" content hash of a
	// Dir source's folder.
	SHA string
	// Message is the commit message ("" for Dir sources).
	Message string
	// Author is "Name <email>" ("" for Dir sources).
	Author string
	// Time is the commit time, or when a Dir snapshot was taken.
	Time time.Time
	// PullRequest is the pull request that brought the commit, when its
	// message names one.
	PullRequest *PullRequestRef
}

// Transition says how a branch got from the previous commit to the new one.
type Transition int

// Transitions, from the safest to the most surprising.
const (
	// TransitionInitial is the first commit the source has seen.
	TransitionInitial Transition = iota
	// TransitionFastForward means the new commit descends from the
	// previous one.
	TransitionFastForward
	// TransitionRewritten means the new commit does not descend from the
	// previous one: the branch was force-pushed (possibly to an older
	// commit). Consumers must not treat it as an ordinary new commit.
	TransitionRewritten
	// TransitionUnverified means ancestry could not be established within
	// the configured depth; treat it like TransitionRewritten.
	TransitionUnverified
	// TransitionBranchDeleted means the branch no longer exists. The Update
	// carries no commit and no applications; the last revisions stay as
	// they were.
	TransitionBranchDeleted
)

// String returns the transition's name, as used in logs.
func (t Transition) String() string {
	switch t {
	case TransitionInitial:
		return "initial"
	case TransitionFastForward:
		return "fast-forward"
	case TransitionRewritten:
		return "rewritten"
	case TransitionUnverified:
		return "unverified"
	case TransitionBranchDeleted:
		return "branch-deleted"
	}
	return "unknown"
}

// Change says what a commit did to one application.
type Change int

// Changes of an application between two commits.
const (
	// ChangeUnchanged means the folder is identical; the application is
	// nevertheless at the new commit.
	ChangeUnchanged Change = iota
	// ChangeAdded means the folder is a new application.
	ChangeAdded
	// ChangeModified means the folder's content changed.
	ChangeModified
	// ChangeRemoved means the application no longer exists; its
	// AppUpdate has no Revision.
	ChangeRemoved
)

// String returns the change's name, as used in logs.
func (c Change) String() string {
	switch c {
	case ChangeUnchanged:
		return "unchanged"
	case ChangeAdded:
		return "added"
	case ChangeModified:
		return "modified"
	case ChangeRemoved:
		return "removed"
	}
	return "unknown"
}

// Triggers reports whether the change calls for reconciling the
// application.
func (c Change) Triggers() bool { return c != ChangeUnchanged }

// AppUpdate is one application's part of an Update.
type AppUpdate struct {
	// App is the application's folder relative to the repository root.
	App string
	// Change is what the commit did to the folder.
	Change Change
	// Revision is the folder at the new commit; nil when Change is
	// ChangeRemoved.
	Revision *Revision
}

// Update is what one poll (or one settled burst of file changes) found for
// one configured source. Updates are values: the same Update feeds the
// engine, the log and the dashboard.
type Update struct {
	// Source is the name of the configured source.
	Source string
	// URL is the repository URL, or the folder path of a Dir source.
	URL string
	// Branch is the branch polled ("" for Dir sources).
	Branch string
	// Previous is the commit the source was at before, "" if none.
	Previous string
	// Commit is the new commit; zero for TransitionBranchDeleted.
	Commit Commit
	// Transition says how the branch moved.
	Transition Transition
	// Apps lists every application, changed or not, sorted by App.
	Apps []AppUpdate
}

// Changed returns the applications whose change calls for reconciling.
func (u Update) Changed() []AppUpdate {
	var out []AppUpdate
	for _, a := range u.Apps {
		if a.Change.Triggers() {
			out = append(out, a)
		}
	}
	return out
}
