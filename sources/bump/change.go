// Package bump proposes artifact updates to Git: an edit of the artifact's
// value in an application's jibe.yaml, committed on a branch and offered as
// a pull request (or committed directly where the source's policy says so).
package bump

// Change is one artifact of one application to move to a newer version:
// what the artifact watch found, and what a proposal edits.
type Change struct {
	// App is the application's name (metadata.name).
	App string
	// Folder is the application's folder in the repository, "" for the
	// root; its jibe.yaml is the file edited.
	Folder string
	// Artifact is the artifact's key under spec.artifacts.
	Artifact string
	// Path is the field edited under the artifact: "image", "ami" or
	// "s3.version".
	Path string
	// From is the value jibe.yaml holds now; To replaces it. A proposal
	// whose file no longer holds From (changed by hand meanwhile) is
	// superseded, not applied.
	From, To string
	// Environments are the environments the change will reach, in
	// promotion order, for the pull request's body.
	Environments []string
}
