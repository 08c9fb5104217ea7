package reconcile

// History returns every rollout of app to env the journal holds, drift
// corrections included, in no particular order.
func (j *Journal) History(app AppID, env string) ([]*Rollout, error) {
	prefix := envKey(app, env) + "/"
	var out []*Rollout
	err := j.store.View(func(tx Tx) error {
		return tx.ForEach(bucketRollouts, prefix, func(k string, _ []byte) error {
			r, err := get(tx, k)
			if err != nil {
				return err
			}
			// A revision never holds a slash: a longer key is another
			// application's whose name extends env's key.
			if r.Env == env && r.AppID() == app {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}
