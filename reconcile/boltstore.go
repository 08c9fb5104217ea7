package reconcile

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// boltStore is the embedded Store: a bbolt file whose buckets are the
// Store's buckets. Parts need no separate keeping: every update is one
// bbolt transaction, and no other process writes the file (bbolt's lock).
type boltStore struct{ db *bbolt.DB }

var _ Store = boltStore{}

// errReadOnly is returned by a write in a View transaction.
var errReadOnly = errors.New("the journal transaction is read-only")

// openBoltStore opens (creating if needed) the bbolt file at path, waiting
// up to timeout for another process to release it.
func openBoltStore(path string, timeout time.Duration) (boltStore, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if err != nil {
		return boltStore{}, fmt.Errorf("opening the rollout journal %s: %w (is another agent using this state directory?)", path, err)
	}
	return boltStore{db: db}, nil
}

func (s boltStore) View(fn func(Tx) error) error {
	return s.db.View(func(tx *bbolt.Tx) error { return fn(boltTx{tx}) })
}

// Update runs fn in one bbolt transaction; the part needs no keeping.
func (s boltStore) Update(_ string, fn func(Tx) error) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return fn(boltTx{tx}) })
}

func (s boltStore) Close() error { return s.db.Close() }

// boltTx is a Tx over a bbolt transaction.
type boltTx struct{ tx *bbolt.Tx }

func (t boltTx) Get(bucket, key string) []byte {
	b := t.tx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return bytes.Clone(b.Get([]byte(key)))
}

func (t boltTx) Put(bucket, key string, value []byte) error {
	if !t.tx.Writable() {
		return errReadOnly
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	return b.Put([]byte(key), value)
}

func (t boltTx) Delete(bucket, key string) error {
	if !t.tx.Writable() {
		return errReadOnly
	}
	b := t.tx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.Delete([]byte(key))
}

func (t boltTx) ForEach(bucket, prefix string, fn func(key string, value []byte) error) error {
	b := t.tx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	c := b.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if v == nil { // a nested bucket, which the journal never writes
			continue
		}
		if err := fn(string(k), bytes.Clone(v)); err != nil {
			return err
		}
	}
	return nil
}
