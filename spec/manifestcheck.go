package spec

import (
	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// ManifestDoc is a Kubernetes object as a ManifestCheck sees it: the
// manifest and the YAML it was decoded from.
type ManifestDoc struct {
	Manifest
	// Node is the object's parsed YAML, placeholders resolved. When Line
	// is set, its positions are positions in File; for an object built by
	// kustomize (Line 0) they are positions in kustomize's output, which
	// problems must not cite: Place finds them in the application's files.
	Node *yaml.Node
	// Environment is the environment that deploys the object, and Cluster
	// the cluster of the agent configuration it deploys to (its
	// kubernetes.cluster; "" when it names none). Every object of one check
	// has the same.
	Environment, Cluster string
	// origin places the nodes of an object kustomize built; nil for an
	// object read from a file.
	origin *origin
}

// ManifestCheck checks the Kubernetes objects one environment deploys,
// every target's together (so that a custom resource can be checked
// against a CustomResourceDefinition of another target), and returns
// their problems and warnings, each at its file, line, column and field.
type ManifestCheck func(docs []ManifestDoc) (problems, warnings strictyaml.ErrorList)

// WithManifestCheck adds check to the checks of every environment's
// Kubernetes objects. Package spec knows no Kubernetes API types; the
// checks against them live in spec/kubecheck, which the command line and
// the agent pass here.
func WithManifestCheck(check ManifestCheck) Option {
	return func(l *loader) { l.manifestCheck = check }
}

// checkManifestDocs runs the manifest check on the environment just
// rendered, when there is one and its objects could be read.
func (l *loader) checkManifestDocs() {
	docs := l.envDocs
	l.envDocs = nil
	if l.manifestCheck == nil || len(docs) == 0 {
		return
	}
	problems, warnings := l.manifestCheck(docs)
	l.errs = append(l.errs, problems...)
	l.warns = append(l.warns, warnings...)
}

// manifestsOf returns the manifests of docs.
func manifestsOf(docs []ManifestDoc) []Manifest {
	if docs == nil {
		return nil
	}
	out := make([]Manifest, len(docs))
	for i, d := range docs {
		out[i] = d.Manifest
	}
	return out
}
