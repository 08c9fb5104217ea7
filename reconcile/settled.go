package reconcile

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Record names one record of a Store: its bucket and key.
type Record struct {
	Bucket, Key string
}

// Settled returns the records among tx's that never change again, oldest
// first: the rollouts that have ended and that no current or stable record
// names, and the application's journaled actions. A store that keeps a
// part in an object of bounded size may move them to objects of their
// own, written once, so that the part does not grow without bound. tx is
// expected to read one part's records.
func Settled(tx Tx) ([]Record, error) {
	named := map[string]bool{}
	for _, b := range []string{bucketCurrent, bucketStable} {
		err := tx.ForEach(b, "", func(_ string, id []byte) error { named[string(id)] = true; return nil })
		if err != nil {
			return nil, err
		}
	}
	type dated struct {
		Record
		at time.Time
	}
	var out []dated
	err := tx.ForEach(bucketRollouts, "", func(k string, v []byte) error {
		var r struct {
			State   RolloutState `json:"state"`
			Updated time.Time    `json:"updated"`
		}
		if named[k] || json.Unmarshal(v, &r) != nil || !r.State.Final() {
			return nil
		}
		out = append(out, dated{Record{bucketRollouts, k}, r.Updated})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.ForEach(bucketAppActions, "", func(k string, _ []byte) error {
		out = append(out, dated{Record{bucketAppActions, k}, actionTime(k)})
		return nil
	})
	slices.SortStableFunc(out, func(a, b dated) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.Key, b.Key)) })
	recs := make([]Record, len(out))
	for i, d := range out {
		recs[i] = d.Record
	}
	return recs, err
}

// actionTime returns the time of an appactions key .../time-seq.
func actionTime(key string) time.Time {
	stamp := key[strings.LastIndex(key, "/")+1:]
	stamp, _, _ = strings.Cut(stamp, "-")
	n, err := strconv.ParseUint(stamp, 16, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(0, int64(n))
}
