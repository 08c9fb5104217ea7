package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Deleter is a Platform that can delete everything a target runs, when
// its application has left Git and its source prunes (config
// Source.Prune). It is not a Remover: Remover takes away a failed new
// version during a rollback; Delete takes away the application's target
// for good, in whatever version it runs.
type Deleter interface {
	// Delete deletes what the deployment's target runs, as Jibe created it
	// for the deployment's application and environment (the deployment is
	// the last rendering of the environment the agent deployed), and
	// nothing else. It is idempotent: deleting what is gone is nil. While
	// the platform is still deleting, it returns a Waiting error.
	Delete(ctx context.Context, d *Deployment) error
}

// Delete deletes d's target on its partition's platform; a platform that
// is not a Deleter cannot, which stalls.
func (p *Partitioned) Delete(ctx context.Context, d *Deployment) error {
	return p.do(ctx, d, func(pl Platform) error {
		dl, ok := pl.(Deleter)
		if !ok {
			return Stalled(fmt.Errorf("the %s platform cannot delete a target of an application removed from Git", d.Target.Platform()))
		}
		return dl.Delete(ctx, d)
	})
}

var _ Deleter = (*Partitioned)(nil)

// bucketApps holds what the journal knows of each application beside its
// rollouts: source/app → AppRecord (JSON), in the application's part.
const bucketApps = "apps"

// AppRecord is what the journal keeps of an application beside its
// rollouts: where its folder was, so that a restarted agent can read the
// revisions it deployed once the folder has left Git, and which
// environments were deleted after it left.
type AppRecord struct {
	// Folder is the application's folder in its source, as of its latest
	// rollout.
	Folder string `json:"folder,omitempty"`
	// Deleted are the environments deleted after the application left
	// Git, by name.
	Deleted map[string]Deletion `json:"deleted,omitempty"`
}

// Deletion records that an environment of an application that left Git
// was deleted.
type Deletion struct {
	// Rollout is the environment's rollout whose targets were deleted (its
	// current one then): a later rollout brings the environment back.
	Rollout string `json:"rollout"`
	// Revision is the revision that ran there.
	Revision string `json:"revision"`
	// Commit is the commit that removed the application from Git.
	Commit string `json:"commit"`
	// At is when the deletion finished.
	At time.Time `json:"at"`
}

// Deployed is an environment of an application that the agent deployed
// and did not delete: what a deletion takes away.
type Deployed struct {
	// Env is the environment's name.
	Env string
	// Revision is what the environment runs: its last succeeded revision,
	// or, when none succeeded, the revision of its latest rollout (a
	// failed first deploy may have left resources).
	Revision string
	// Current is the ID of the environment's latest rollout.
	Current string
}

// SetFolder records the folder of app in its source. Nothing is written
// when the folder is already recorded.
func (j *Journal) SetFolder(app AppID, folder string) error {
	rec, err := j.App(app)
	if err != nil || rec.Folder == folder {
		return err
	}
	return j.updateApp(app, func(r *AppRecord) { r.Folder = folder })
}

// App returns what the journal keeps of app; the zero record when it
// keeps nothing.
func (j *Journal) App(app AppID) (AppRecord, error) {
	var rec AppRecord
	err := j.store.View(func(tx Tx) error {
		return getApp(tx, app, &rec)
	})
	return rec, err
}

// RecordDeletion records that env of app, which left Git at commit, was
// deleted: the environment is no longer Deployed, and its last succeeded
// rollout no longer counts as its stable version (should the application
// come back, it is deployed afresh).
func (j *Journal) RecordDeletion(app AppID, env, commit string) error {
	return j.store.Update(app.String(), func(tx Tx) error {
		key := envKey(app, env)
		id := tx.Get(bucketCurrent, key)
		if id == nil {
			return fmt.Errorf("%w for %s in %s", ErrNoRollout, app, env)
		}
		cur, err := get(tx, string(id))
		if err != nil {
			return err
		}
		revision := cur.Revision
		if sid := tx.Get(bucketStable, key); sid != nil {
			if st, err := get(tx, string(sid)); err == nil {
				revision = st.Revision
			}
		}
		var rec AppRecord
		if err := getApp(tx, app, &rec); err != nil {
			return err
		}
		if rec.Deleted == nil {
			rec.Deleted = map[string]Deletion{}
		}
		rec.Deleted[env] = Deletion{Rollout: cur.ID, Revision: revision, Commit: commit, At: j.now()}
		if err := putApp(tx, app, &rec); err != nil {
			return err
		}
		return tx.Delete(bucketStable, key)
	})
}

// Applications returns the applications of source that have a rollout in
// some environment: those the agent ran, by identity.
func (j *Journal) Applications(source string) ([]AppID, error) {
	seen := map[AppID]bool{}
	var out []AppID
	err := j.store.View(func(tx Tx) error {
		return tx.ForEach(bucketCurrent, "", func(_ string, id []byte) error {
			r, err := get(tx, string(id))
			if err != nil {
				return err
			}
			if app := r.AppID(); r.Source == source && !seen[app] {
				seen[app] = true
				out = append(out, app)
			}
			return nil
		})
	})
	return out, err
}

// Deployed returns the environments of app that the agent deployed and
// has not deleted since, sorted by name.
func (j *Journal) Deployed(app AppID) ([]Deployed, error) {
	var out []Deployed
	prefix := envKey(app, "")
	err := j.store.View(func(tx Tx) error {
		var rec AppRecord
		if err := getApp(tx, app, &rec); err != nil {
			return err
		}
		return tx.ForEach(bucketCurrent, prefix, func(k string, id []byte) error {
			cur, err := get(tx, string(id))
			if err != nil {
				return err
			}
			if cur.AppID() != app || rec.Deleted[cur.Env].Rollout == cur.ID {
				return nil
			}
			d := Deployed{Env: cur.Env, Revision: cur.Revision, Current: cur.ID}
			if sid := tx.Get(bucketStable, k); sid != nil {
				if st, err := get(tx, string(sid)); err == nil {
					d.Revision = st.Revision
				}
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

func (j *Journal) updateApp(app AppID, change func(*AppRecord)) error {
	return j.store.Update(app.String(), func(tx Tx) error {
		var rec AppRecord
		if err := getApp(tx, app, &rec); err != nil {
			return err
		}
		change(&rec)
		return putApp(tx, app, &rec)
	})
}

func getApp(tx Tx, app AppID, rec *AppRecord) error {
	data := tx.Get(bucketApps, app.String())
	if data == nil {
		return nil
	}
	if err := json.Unmarshal(data, rec); err != nil {
		return fmt.Errorf("journal record of %s is corrupt: %w", app, err)
	}
	return nil
}

func putApp(tx Tx, app AppID, rec *AppRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Put(bucketApps, app.String(), data)
}
