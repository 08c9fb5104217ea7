package kubejournal

import (
	"errors"
	"slices"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// storeContract is what every reconcile.Store does, whatever keeps it.
var storeContract = []struct {
	name string
	run  func(t *testing.T, s reconcile.Store)
}{
	{"get, put and delete", func(t *testing.T, s reconcile.Store) {
		if err := put(s, "shop/web", "rollouts", "shop/web/production/abc#correction-1", `{"id":1}`); err != nil {
			t.Fatal(err)
		}
		if v := get(t, s, "rollouts", "shop/web/production/abc#correction-1"); string(v) != `{"id":1}` {
			t.Errorf("get = %q", v)
		}
		if v := get(t, s, "rollouts", "missing"); v != nil {
			t.Errorf("get of a missing key = %q", v)
		}
		err := s.Update("shop/web", func(tx reconcile.Tx) error {
			return errors.Join(tx.Delete("rollouts", "shop/web/production/abc#correction-1"), tx.Delete("rollouts", "none"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if v := get(t, s, "rollouts", "shop/web/production/abc#correction-1"); v != nil {
			t.Errorf("get after delete = %q", v)
		}
	}},
	{"for-each in key order, by prefix, with the transaction's writes", func(t *testing.T, s reconcile.Store) {
		for _, k := range []string{"shop/web/b", "shop/web/a", "shop/web-2/a", "shop/web/a/1", "shop/webx"} {
			if err := put(s, "shop/web", "current", k, k); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := keys(t, s, "current", "shop/web/"), []string{"shop/web/a", "shop/web/a/1", "shop/web/b"}; !slices.Equal(got, want) {
			t.Errorf("for-each shop/web/ = %q, want %q", got, want)
		}
		var seen []string
		err := s.Update("shop/web", func(tx reconcile.Tx) error {
			if err := tx.Put("current", "shop/web/aa", []byte("x")); err != nil {
				return err
			}
			if err := tx.Delete("current", "shop/web/b"); err != nil {
				return err
			}
			return tx.ForEach("current", "shop/web/", func(k string, _ []byte) error { seen = append(seen, k); return nil })
		})
		if want := []string{"shop/web/a", "shop/web/a/1", "shop/web/aa"}; err != nil || !slices.Equal(seen, want) {
			t.Errorf("for-each in the transaction = %q, %v; want %q", seen, err, want)
		}
		if got := keys(t, s, "current", ""); len(got) != 5 {
			t.Errorf("every key = %q", got)
		}
	}},
	{"binary keys and values", func(t *testing.T, s reconcile.Store) {
		key, value := "\x00\x01\xff._/x", "\xff\xfe"
		if err := put(s, reconcile.PartActions, "actions", key, value); err != nil {
			t.Fatal(err)
		}
		if got := keys(t, s, "actions", ""); !slices.Equal(got, []string{key}) {
			t.Errorf("keys = %q", got)
		}
		if v := get(t, s, "actions", key); string(v) != value {
			t.Errorf("value = %q", v)
		}
	}},
	{"a transaction that fails is discarded", func(t *testing.T, s reconcile.Store) {
		boom := errors.New("boom")
		err := s.Update("shop/web", func(tx reconcile.Tx) error {
			if err := tx.Put("holds", "pause/shop/web", []byte("h")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("update = %v, want the function's error", err)
		}
		if v := get(t, s, "holds", "pause/shop/web"); v != nil {
			t.Errorf("a failed transaction's write is stored: %q", v)
		}
		err = s.View(func(tx reconcile.Tx) error { return tx.Put("holds", "x", nil) })
		if err == nil {
			t.Error("a view wrote")
		}
	}},
	{"parts are isolated", func(t *testing.T, s reconcile.Store) {
		if err := put(s, "shop/web", "apps", "shop/web", "web"); err != nil {
			t.Fatal(err)
		}
		if err := put(s, "shop/api", "apps", "shop/api", "api"); err != nil {
			t.Fatal(err)
		}
		err := s.Update("shop/api", func(tx reconcile.Tx) error {
			_ = tx.Put("apps", "shop/api", []byte("changed"))
			return errors.New("no")
		})
		if err == nil {
			t.Fatal("want the error")
		}
		if a, w := get(t, s, "apps", "shop/api"), get(t, s, "apps", "shop/web"); string(a) != "api" || string(w) != "web" {
			t.Errorf("records = %q, %q", a, w)
		}
	}},
}

// The embedded store and the Kubernetes store keep the same contract.
func TestStoreContract(t *testing.T) {
	for _, tc := range storeContract {
		t.Run("bolt/"+tc.name, func(t *testing.T) { tc.run(t, openBolt(t)) })
	}
	for _, tc := range storeContract {
		t.Run("kube/"+tc.name, func(t *testing.T) { tc.run(t, newEnv(t).open("contract", nil, Options{})) })
	}
}
