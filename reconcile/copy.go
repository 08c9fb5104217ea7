package reconcile

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// journalBuckets are every bucket a Journal writes or reads.
var journalBuckets = []string{bucketRollouts, bucketCurrent, bucketStable, bucketApps, bucketAppActions,
	bucketSourceActions, bucketHolds, bucketActions}

// OpenBoltStore opens the embedded journal file at path as a Store, for
// copying records (CopyJournal); agents open it with OpenJournal. It
// fails, after timeout, while another process (an agent) holds the file.
func OpenBoltStore(path string, timeout time.Duration) (Store, error) {
	return openBoltStore(path, timeout)
}

// PartOf returns the part of the record under key in bucket (store.go
// lists them).
func PartOf(bucket, key string) string {
	switch bucket {
	case bucketRollouts:
		return rolloutPart(key)
	case bucketCurrent, bucketStable:
		return leading(key, strings.Count(key, "/"))
	case bucketApps:
		return key
	case bucketAppActions:
		return leading(key, strings.Count(key, "/"))
	case bucketHolds:
		return holdPart(key)
	}
	return PartActions
}

// leading returns the first n slash-separated segments of key.
func leading(key string, n int) string {
	segs := strings.Split(key, "/")
	return strings.Join(segs[:min(max(n, 1), len(segs))], "/")
}

// ErrNotEmpty is returned by CopyJournal for a destination that holds
// records already.
var ErrNotEmpty = errors.New("the destination journal already holds records")

// CopyResult says what CopyJournal copied: records by bucket, and parts.
type CopyResult struct {
	Records map[string]int
	Parts   int
}

// copyBatch is how many records CopyJournal writes per update, so that a
// store that moves settled records out of a part can do so as it goes.
const copyBatch = 64

// CopyJournal copies every record of from into to, each in its part. It
// refuses a destination that holds records unless force is set, in which
// case records of the same keys are replaced and others kept.
func CopyJournal(from, to Store, force bool) (CopyResult, error) {
	if !force {
		if n, err := countRecords(to); err != nil || n > 0 {
			return CopyResult{}, errors.Join(err, fmt.Errorf("%w (%d)", ErrNotEmpty, n))
		}
	}
	byPart := map[string][]copied{}
	err := from.View(func(tx Tx) error {
		for _, b := range journalBuckets {
			err := tx.ForEach(b, "", func(k string, v []byte) error {
				byPart[PartOf(b, k)] = append(byPart[PartOf(b, k)], copied{b, k, v})
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CopyResult{}, fmt.Errorf("reading the journal to copy: %w", err)
	}
	res := CopyResult{Records: map[string]int{}}
	for _, part := range slices.Sorted(maps.Keys(byPart)) {
		if err := copyPart(to, part, byPart[part]); err != nil {
			return res, err
		}
		res.Parts++
		for _, c := range byPart[part] {
			res.Records[c.bucket]++
		}
	}
	return res, nil
}

type copied struct {
	bucket, key string
	value       []byte
}

// copyPart writes part's records, the current and stable records first,
// so that a store moving settled records out of the part (those no such
// record names) can tell them as the rollouts follow.
func copyPart(to Store, part string, recs []copied) error {
	pointer := func(c copied) bool { return c.bucket == bucketCurrent || c.bucket == bucketStable }
	slices.SortStableFunc(recs, func(a, b copied) int {
		switch {
		case pointer(a) == pointer(b):
			return 0
		case pointer(a):
			return -1
		}
		return 1
	})
	for chunk := range slices.Chunk(recs, copyBatch) {
		err := to.Update(part, func(tx Tx) error {
			for _, c := range chunk {
				if err := tx.Put(c.bucket, c.key, c.value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copying journal part %s: %w", part, err)
		}
	}
	return nil
}

// countRecords counts the records s holds.
func countRecords(s Store) (int, error) {
	n := 0
	err := s.View(func(tx Tx) error {
		for _, b := range journalBuckets {
			if err := tx.ForEach(b, "", func(string, []byte) error { n++; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
