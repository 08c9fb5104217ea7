package reconcile

import (
	"bytes"

	"go.etcd.io/bbolt"
)

// History returns every rollout of app to env the journal holds, drift
// corrections included, in no particular order.
func (j *Journal) History(app AppID, env string) ([]*Rollout, error) {
	prefix := []byte(envKey(app, env) + "/")
	var out []*Rollout
	err := j.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRollouts).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			r, err := get(tx, string(k))
			if err != nil {
				return err
			}
			// A revision never holds a slash: a longer key is another
			// application's whose name extends env's key.
			if r.Env == env && r.AppID() == app {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}
