package reconcile

import "errors"

// Store is where a Journal keeps its records: named buckets of keys and
// values, read and written in transactions. The embedded default is a
// bbolt file (OpenJournal); state.kubernetes keeps them as Kubernetes
// objects (providers/kubernetes/kubejournal), so that several agents
// share them and a former owner cannot write.
//
// Every record belongs to a part: the records of one application (its
// rollouts, their pointers, holds and folder) are one part, named by
// AppID.String(); PartActions and PartSources hold the records of no
// single application. An update writes one part, whole or not at all;
// a store may keep each part as one object.
//
// The Journal's buckets, their keys and the part each record is in:
//
//	rollouts       source/app/env/revision[#...] → Rollout   application
//	current        source/app/env → rollout ID                application
//	stable         source/app/env → rollout ID                application
//	apps           source/app → AppRecord (folder, deletions) application
//	appactions     source/app/time-seq → ActionRecord         application
//	holds          kind/source/app[/env] → Hold               application
//	holds          pause/source → Hold (a whole source)       PartSources
//	sourceactions  source/time-seq → ActionRecord             PartActions
//	actions        time+sequence (binary) → ActionRecord      read only: written before parts
//
// Keys are unique across parts, so that a read sees every part at once.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction on part's records,
	// committed when fn returns nil and discarded when it returns an
	// error. A store that can lose its right to write returns an error
	// satisfying errors.Is(err, ErrFenced) and commits nothing.
	Update(part string, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx reads and writes a Store's records inside one transaction. Keys and
// buckets are plain strings; values are owned by the caller once
// returned.
type Tx interface {
	// Get returns the value of key in bucket, nil for none.
	Get(bucket, key string) []byte
	// Put sets key in bucket to value.
	Put(bucket, key string, value []byte) error
	// Delete removes key from bucket; removing none is nil.
	Delete(bucket, key string) error
	// ForEach calls fn for every key of bucket starting with prefix, in
	// key order, stopping at fn's first error.
	ForEach(bucket, prefix string, fn func(key string, value []byte) error) error
}

// Claimer is a Store whose parts can change writer: an agent that gains
// an application claims its part before acting on it, after which the
// former writer's updates of that part fail with ErrFenced.
type Claimer interface {
	// Claim makes this process the writer of part, reading its latest
	// records.
	Claim(part string) error
}

// Notifier is a Store that other processes write too: it reports the
// changes of a part's records it observes from them.
type Notifier interface {
	// OnPartChange has fn called with a part's name after each change of
	// its records that the store observes through its watch: writes of
	// other processes, and its own when the watch shows them before the
	// write returns. fn runs on the store's goroutine and must not block.
	OnPartChange(fn func(part string))
}

// PartActions and PartSources are the parts of the action log and of
// holds on whole sources.
const (
	PartActions = "_actions"
	PartSources = "_sources"
)

// ErrFenced is returned by a Store for a write refused because another
// process has since become the writer of the records (it claimed them
// after this one lost its lease). The caller must stop acting on them.
var ErrFenced = errors.New("another agent has taken over these records (this agent lost its lease); it stops acting on them")
