package kubejournal

import (
	"errors"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

// Once store B claims part P, store A's next update of P fails with
// ErrFenced and stores nothing of it, while A still writes the parts it
// holds.
func TestClaimFencesTheFormerWriter(t *testing.T) {
	e := newEnv(t)
	a, b := e.open("agent-a", nil, Options{}), e.open("agent-b", nil, Options{})
	for _, part := range []string{"shop/web", "shop/api"} {
		if err := a.Claim(part); err != nil {
			t.Fatal(err)
		}
	}
	if err := put(a, "shop/web", "current", "shop/web/production", "one"); err != nil {
		t.Fatal(err)
	}
	if err := b.Claim("shop/web"); err != nil {
		t.Fatal(err)
	}
	if v := get(t, b, "current", "shop/web/production"); string(v) != "one" {
		t.Errorf("B's claim reads %q, want A's last write", v)
	}
	err := put(a, "shop/web", "current", "shop/web/production", "two")
	if !errors.Is(err, reconcile.ErrFenced) {
		t.Fatalf("A's update after B's claim = %v, want ErrFenced", err)
	}
	for _, s := range []*Store{a, b} {
		if v := get(t, s, "current", "shop/web/production"); string(v) != "one" {
			t.Errorf("after the fenced update the record is %q", v)
		}
	}
	if err := put(a, "shop/api", "current", "shop/api/production", "a"); err != nil {
		t.Errorf("A's update of the part it still holds: %v", err)
	}
	if err := put(b, "shop/web", "current", "shop/web/production", "three"); err != nil {
		t.Errorf("B's update of the part it claimed: %v", err)
	}
}

// A write in flight when another store claims the part (A read the
// part, B claimed it, then A writes) is refused by the API server's
// resourceVersion check, and A learns it is fenced.
func TestStaleWriteInFlightIsRefused(t *testing.T) {
	e := newEnv(t)
	a, b := e.open("agent-a", nil, Options{}), e.open("agent-b", nil, Options{})
	if err := a.Claim("shop/web"); err != nil {
		t.Fatal(err)
	}
	if err := put(a, "shop/web", "holds", "pause/shop/web", "before"); err != nil {
		t.Fatal(err)
	}
	claimed := make(chan error, 1)
	err := a.Update("shop/web", func(tx reconcile.Tx) error {
		if string(tx.Get("holds", "pause/shop/web")) != "before" {
			return errors.New("A does not read its last write")
		}
		go func() { claimed <- b.Claim("shop/web") }()
		if err := <-claimed; err != nil { // B claims while A's transaction runs
			return err
		}
		return tx.Put("holds", "pause/shop/web", []byte("stale"))
	})
	if !errors.Is(err, reconcile.ErrFenced) {
		t.Fatalf("A's stale write = %v, want ErrFenced", err)
	}
	if v := get(t, b, "holds", "pause/shop/web"); string(v) != "before" {
		t.Errorf("the record after the stale write is %q", v)
	}
}

// An update that conflicts with another write of the same writer (two
// stores of one identity) is run again on the fresh records, not fenced.
func TestConflictOfTheSameWriterIsRetried(t *testing.T) {
	e := newEnv(t)
	a1, a2 := e.open("agent-a", nil, Options{}), e.open("agent-a", nil, Options{})
	if err := a1.Claim("shop/web"); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := a1.Update("shop/web", func(tx reconcile.Tx) error {
		runs++
		if runs == 1 {
			if err := a2.Update("shop/web", func(tx reconcile.Tx) error { return tx.Put("apps", "shop/web", []byte("a2")) }); err != nil {
				return err
			}
		}
		return tx.Put("current", "shop/web/production", []byte("a1"))
	})
	if err != nil || runs != 2 {
		t.Fatalf("update = %v after %d runs, want a retry", err, runs)
	}
	if w, c := get(t, a1, "apps", "shop/web"), get(t, a1, "current", "shop/web/production"); string(w) != "a2" || string(c) != "a1" {
		t.Errorf("records = %q, %q; want both writes", w, c)
	}
}
