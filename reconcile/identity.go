package reconcile

// AppID identifies an application: the configured source it comes from and
// its metadata.name. Two sources may each have an application of the same
// name; they are different applications, with their own journal records,
// statuses, gates and API entries. Within one source a name is unique (the
// agent refuses duplicates).
type AppID struct {
	// Source is the name of the configured source. It is empty only for
	// journal records written before application identity, that the
	// journal could not assign to a source (see Journal.Migrate).
	Source string `json:"source"`
	// Name is the application's metadata.name.
	Name string `json:"name"`
}

// String returns "source/name", or the name alone for a legacy identity
// without source.
func (id AppID) String() string {
	if id.Source == "" {
		return id.Name
	}
	return id.Source + "/" + id.Name
}
