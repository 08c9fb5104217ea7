package kubejournal

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/jibe-dev/jibe/reconcile"
)

// errReadOnly is returned by a write in a View transaction.
var errReadOnly = errors.New("the journal transaction is read-only")

// tx reads the store's index (the caller holds its read lock) under the
// transaction's own writes, which only Update's commit sends.
type tx struct {
	ix       index
	part     string
	writable bool
	writes   map[string]map[string]*[]byte // bucket → key → value, nil pointer: deleted
}

var _ reconcile.Tx = (*tx)(nil)

func (t *tx) Get(bucket, key string) []byte {
	if w, ok := t.writes[bucket][key]; ok {
		if w == nil {
			return nil
		}
		return bytes.Clone(*w)
	}
	if bi := t.ix[bucket]; bi != nil {
		return bytes.Clone(bi.vals[key])
	}
	return nil
}

func (t *tx) Put(bucket, key string, value []byte) error {
	if !t.writable {
		return errReadOnly
	}
	if _, err := dataKey(t.part, bucket, key); err != nil {
		return err
	}
	v := bytes.Clone(value)
	t.write(bucket, key, &v)
	return nil
}

func (t *tx) Delete(bucket, key string) error {
	if !t.writable {
		return errReadOnly
	}
	t.write(bucket, key, nil)
	return nil
}

func (t *tx) write(bucket, key string, v *[]byte) {
	if t.writes == nil {
		t.writes = map[string]map[string]*[]byte{}
	}
	if t.writes[bucket] == nil {
		t.writes[bucket] = map[string]*[]byte{}
	}
	t.writes[bucket][key] = v
}

func (t *tx) ForEach(bucket, prefix string, fn func(key string, value []byte) error) error {
	var keys []string
	if bi := t.ix[bucket]; bi != nil {
		i, _ := slices.BinarySearch(bi.keys, prefix)
		for ; i < len(bi.keys) && strings.HasPrefix(bi.keys[i], prefix); i++ {
			keys = append(keys, bi.keys[i])
		}
	}
	for k := range maps.Keys(t.writes[bucket]) {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	type kv struct {
		k string
		v []byte
	}
	var pairs []kv
	for _, k := range keys {
		if v := t.Get(bucket, k); v != nil {
			pairs = append(pairs, kv{k, v})
		}
	}
	for _, p := range pairs {
		if err := fn(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}

// recordsTx is a read-only Tx over one part's records, for
// reconcile.Settled.
type recordsTx records

func (r recordsTx) Get(bucket, key string) []byte { return records(r)[bucket][key] }

func (recordsTx) Put(string, string, []byte) error { return errReadOnly }

func (recordsTx) Delete(string, string) error { return errReadOnly }

func (r recordsTx) ForEach(bucket, prefix string, fn func(string, []byte) error) error {
	for _, k := range slices.Sorted(maps.Keys(r[bucket])) {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if err := fn(k, r[bucket][k]); err != nil {
			return err
		}
	}
	return nil
}
