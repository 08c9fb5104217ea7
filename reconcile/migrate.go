package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// Journals written before application identity keyed rollouts by
// metadata.name alone: IDs app/env/revision, current and stable records
// app/env, and no source in the rollout. Two sources with an application of
// the same name overwrote each other's current and stable records. Such
// records are legacy: Migrate moves each to the source it belongs to.

// legacyKey reports whether a rollouts, current or stable key has the
// legacy shape: one slash fewer than keys with a source (names, sources,
// environments and revisions hold no slash; a correction's "#..." suffix
// is ignored).
func legacyKey(key string, slashes int) bool {
	k, _, _ := strings.Cut(key, "#")
	return strings.Count(k, "/") == slashes
}

// Legacy returns the rollouts written without a source, in ID order.
func (j *Journal) Legacy() ([]*Rollout, error) {
	var out []*Rollout
	err := j.store.View(func(tx Tx) (err error) {
		out, err = legacyRollouts(tx)
		return err
	})
	return out, err
}

func legacyRollouts(tx Tx) ([]*Rollout, error) {
	var out []*Rollout
	err := tx.ForEach(bucketRollouts, "", func(k string, _ []byte) error {
		if !legacyKey(k, 2) {
			return nil
		}
		r, err := get(tx, k)
		if err == nil && r.Source == "" {
			out = append(out, r)
		}
		return err
	})
	return out, err
}

// MigrationResult says what Migrate did.
type MigrationResult struct {
	// Assigned counts the rollouts moved to a source, by application.
	Assigned map[AppID]int
	// Left are the legacy rollouts that stay without a source, for a later
	// start (or an operator) to assign.
	Left []*Rollout
}

// Migrate moves legacy rollouts (see Legacy) to their source: assign
// returns the source of each, or "" to leave it legacy. A moved rollout
// gets its source and the ID source/app/env/revision; the current and
// stable records of every environment concerned are rebuilt from the
// rollouts (the latest started, the latest succeeded), which also restores
// the records another source's application of the same name had
// overwritten. Everything happens in one transaction. Migrate is
// idempotent: a journal without legacy rollouts is left as it is, and
// rollouts left legacy are offered again on the next call. Only the
// embedded journal (OpenJournal) is migrated, as it moves records between
// parts in one transaction; journals in other stores hold no legacy
// records (jibe journal migrate copies a migrated one).
func (j *Journal) Migrate(assign func(*Rollout) string) (MigrationResult, error) {
	res := MigrationResult{Assigned: map[AppID]int{}}
	if j.bolt == nil {
		return res, nil
	}
	err := j.bolt.db.Update(func(btx *bbolt.Tx) error {
		tx := boltTx{btx}
		legacy, err := legacyRollouts(tx)
		if err != nil || len(legacy) == 0 {
			return err
		}
		touched := map[string]bool{} // envKeys whose records change
		for _, r := range legacy {
			src := assign(r)
			if src == "" {
				res.Left = append(res.Left, r)
				continue
			}
			if err := move(tx, r, src); err != nil {
				return err
			}
			res.Assigned[r.AppID()]++
			touched[envKey(AppID{Name: r.App}, r.Env)] = true
			touched[envKey(r.AppID(), r.Env)] = true
		}
		return rebuildPointers(tx, touched)
	})
	if err != nil {
		return MigrationResult{}, fmt.Errorf("migrating the rollout journal %s to application identities: %w", j.path, err)
	}
	return res, nil
}

// move gives legacy rollout r to source src under its new ID. When a
// rollout of that ID exists already (written since the upgrade), it is
// kept and the legacy one dropped.
func move(tx Tx, r *Rollout, src string) error {
	old := r.ID
	r.Source, r.ID = src, src+"/"+old
	if err := tx.Delete(bucketRollouts, old); err != nil {
		return err
	}
	if tx.Get(bucketRollouts, r.ID) != nil {
		return nil
	}
	return put(tx, r)
}

// rebuildPointers sets the current and stable records of each envKey from
// the rollouts of that application and environment, removing those left
// without any.
func rebuildPointers(tx Tx, keys map[string]bool) error {
	byKey := map[string][]*Rollout{}
	err := tx.ForEach(bucketRollouts, "", func(k string, _ []byte) error {
		r, err := get(tx, k)
		if err != nil {
			return err
		}
		if key := envKey(r.AppID(), r.Env); keys[key] {
			byKey[key] = append(byKey[key], r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for key := range keys {
		rs := byKey[key]
		if err := setPointer(tx, bucketCurrent, key, latest(rs, func(r *Rollout) bool { return true }, startedOrder)); err != nil {
			return err
		}
		succeeded := func(r *Rollout) bool { return r.State == RolloutSucceeded }
		if err := setPointer(tx, bucketStable, key, latest(rs, succeeded, updatedOrder)); err != nil {
			return err
		}
	}
	return nil
}

func startedOrder(a, b *Rollout) int {
	return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.ID, b.ID))
}

func updatedOrder(a, b *Rollout) int {
	return cmp.Or(a.Updated.Compare(b.Updated), strings.Compare(a.ID, b.ID))
}

// latest returns the greatest of the rollouts that keep says, or nil.
func latest(rs []*Rollout, keep func(*Rollout) bool, order func(a, b *Rollout) int) *Rollout {
	var kept []*Rollout
	for _, r := range rs {
		if keep(r) {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return slices.MaxFunc(kept, order)
}

// setPointer points key of bucket at r, or removes it when r is nil.
func setPointer(tx Tx, bucket, key string, r *Rollout) error {
	if r == nil {
		return tx.Delete(bucket, key)
	}
	return tx.Put(bucket, key, []byte(r.ID))
}
