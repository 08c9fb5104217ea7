// Package spec defines the application spec that teams commit next to their
// deployment files, and loads, defaults, validates and renders it.
//
// An application lives in one folder of a Git repository. Its spec,
// jibe.yaml, names the artifacts being promoted, the targets they are deployed
// to (ECS services, Lambda functions, Kubernetes manifests, EC2 Auto Scaling
// groups) and the environments they are promoted through, in order, each with
// its strategy, verification, approval rule and rollback policy. Target files
// refer to artifacts and variables through placeholders such as
// ${artifacts.web}, so that a release is a one-line change.
//
// Load reads and validates an application; every problem is reported at once
// as a strictyaml.ErrorList with file:line:column and field path. Render
// resolves an environment's placeholders and returns what is to be deployed.
package spec

// APIVersion is the apiVersion of every document this package reads.
const APIVersion = "jibe.dev/v1alpha1"

// KindApplication is the kind of an application spec.
const KindApplication = "Application"

// FileName is the name of the spec file in an application's folder.
const FileName = "jibe.yaml"

// Application is the document stored as jibe.yaml in an application's folder.
type Application struct {
	// APIVersion must be "jibe.dev/v1alpha1".
	APIVersion string `json:"apiVersion" jsonschema:"required,enum=jibe.dev/v1alpha1"`
	// Kind must be "Application".
	Kind string `json:"kind" jsonschema:"required,enum=Application"`
	// Metadata names the application.
	Metadata Metadata `json:"metadata" jsonschema:"required"`
	// Spec says what is deployed where, and how.
	Spec ApplicationSpec `json:"spec" jsonschema:"required"`
}

// Metadata identifies an application.
type Metadata struct {
	// Name identifies the application in commit statuses (jibe/<name>/<env>),
	// resource tags and the dashboard: lowercase letters, digits and '-', at
	// most 63 characters, unique among the applications of its source (the
	// agent identifies an application by its source and name; two folders
	// of one source giving the same name are both refused).
	Name string `json:"name" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
	// Description is a sentence about the application, for the people
	// who read its spec. The agent does not show it (yet).
	Description string `json:"description,omitempty"`
	// Labels are free-form key/value pairs for the people and tools that
	// read the spec. The agent neither shows nor filters by them (yet).
	Labels map[string]string `json:"labels,omitempty"`
}

// ApplicationSpec is the body of an application.
type ApplicationSpec struct {
	// Artifacts are the versioned things being promoted, by name. Target files
	// refer to them as ${artifacts.<name>}.
	Artifacts map[string]Artifact `json:"artifacts,omitempty"`
	// Variables are defaults for ${vars.<name>} placeholders; each
	// environment may override them.
	Variables map[string]string `json:"variables,omitempty"`
	// Targets are what gets deployed: at least one.
	Targets []Target `json:"targets" jsonschema:"required,minItems=1"`
	// Environments are promoted in the order listed: a revision starts in an
	// environment only once the previous one runs it and has verified it.
	Environments []Environment `json:"environments" jsonschema:"required,minItems=1"`
	// Drift says what Jibe does when live state drifts from Git.
	Drift *Drift `json:"drift,omitempty"`
}

// Drift configures drift handling.
type Drift struct {
	// Correct re-applies Git's state when live state drifts from it. When
	// false, drift is only reported. Default true.
	Correct *bool `json:"correct,omitempty"`
}

// Artifact is one versioned deliverable. Exactly one of its fields is set.
type Artifact struct {
	// Image is a container image reference, such as
	// 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2 or
	// nginx@sha256:<digest>. ${artifacts.<name>} is the whole reference;
	// .repository, .tag and .digest give its parts.
	Image string `json:"image,omitempty"`
	// S3 is an object in S3, such as a Lambda deployment package.
	// ${artifacts.<name>} is s3://bucket/key; .bucket, .key and .version give
	// its parts.
	S3 *S3Object `json:"s3,omitempty"`
	// AMI is an EC2 machine image ID (ami-...). ${artifacts.<name>} is the ID.
	AMI string `json:"ami,omitempty"`
	// Update lets the agent's artifact watch propose newer versions of
	// the artifact, as a pull request (or a commit, per the source's
	// artifactUpdates) that edits only this artifact's value. Default:
	// not watched.
	Update *UpdatePolicy `json:"update,omitempty"`
}

// S3Object locates an object in S3.
type S3Object struct {
	// Bucket is the bucket name.
	Bucket string `json:"bucket" jsonschema:"required"`
	// Key is the object key.
	Key string `json:"key" jsonschema:"required"`
	// Version is the object version, for versioned buckets.
	Version string `json:"version,omitempty"`
}

// ArtifactKind tells what an artifact is.
type ArtifactKind int

// The kinds of artifact.
const (
	ArtifactUnknown ArtifactKind = iota
	ArtifactImage
	ArtifactS3
	ArtifactAMI
)

// Kind returns which of the artifact's fields is set, or ArtifactUnknown
// when none or several are.
func (a *Artifact) Kind() ArtifactKind {
	kinds := oneOf(a.Image != "", a.S3 != nil, a.AMI != "")
	if len(kinds) != 1 {
		return ArtifactUnknown
	}
	return ArtifactKind(kinds[0] + 1)
}

// oneOf returns the indexes of the set flags.
func oneOf(set ...bool) []int {
	var out []int
	for i, s := range set {
		if s {
			out = append(out, i)
		}
	}
	return out
}
