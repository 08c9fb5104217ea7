package reconcile

// RefusedError says that a platform refused to write an object of a
// deployment: its source may not write it (a *config.TenancyError), or its
// scope cannot be told. Platforms return it wrapped in Stalled, from Diff
// as from the writes, and nothing of the deployment is written.
type RefusedError struct {
	// Object names the object and its manifest, e.g.
	// "k8s/rbac.yaml:3: rbac.authorization.k8s.io/v1 ClusterRole reader".
	Object string
	// Err says why and what to do.
	Err error
}

// Error returns "object: reason".
func (e *RefusedError) Error() string { return e.Object + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *RefusedError) Unwrap() error { return e.Err }
