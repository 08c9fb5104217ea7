package reconcile

import (
	"fmt"
	"strings"
)

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

// Legacy reports whether the identity predates sources (no Source).
func (id AppID) Legacy() bool { return id.Source == "" }

// ParseAppID reads "source/name" as String writes it. Both parts must be
// present: a name alone is refused, as it names no source.
func ParseAppID(s string) (AppID, error) {
	source, name, ok := strings.Cut(s, "/")
	if !ok || source == "" || name == "" || strings.Contains(name, "/") {
		return AppID{}, fmt.Errorf("%q is not an application identity: want source/name", s)
	}
	return AppID{Source: source, Name: name}, nil
}
