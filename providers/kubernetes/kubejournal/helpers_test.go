package kubejournal

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
)

func TestMain(m *testing.M) { kube.Main(m, kube.Options{}) }

// testTimeout bounds every wait of the tests.
const testTimeout = 60 * time.Second

// journalRole is all the store needs: configmaps in its namespace.
var journalRole = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"},
	Verbs: []string{"get", "list", "watch", "create", "update", "delete"}}

// env is a namespace of the test cluster for one test's journal.
type env struct {
	t        *testing.T
	c        *kube.Cluster
	ns       string
	accounts int // service accounts made so far
}

func newEnv(t *testing.T) *env {
	c := kube.Shared(t)
	return &env{t: t, c: c, ns: c.NewNamespace(t)}
}

// config returns a client config for a service account of the test's
// namespace that may only use configmaps there, counting its requests
// in n when n is not nil.
func (e *env) config(identity string, n *atomic.Int64) *rest.Config {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	e.accounts++
	cfg, err := e.c.ServiceAccountConfig(ctx, e.ns, fmt.Sprintf("%s-%d", identity, e.accounts), journalRole)
	if err != nil {
		e.t.Fatal(err)
	}
	if n != nil {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				n.Add(1)
				return rt.RoundTrip(r)
			})
		})
	}
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// open opens journal "jibe" of the test's namespace as identity, with its
// own client, closed when the test ends.
func (e *env) open(identity string, n *atomic.Int64, opts Options) *Store {
	e.t.Helper()
	client, err := kubernetes.NewForConfig(e.config(identity, n))
	if err != nil {
		e.t.Fatal(err)
	}
	opts.Identity = identity
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s, err := Open(ctx, client, e.ns, "jibe", opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

// openBolt opens an embedded journal file as a Store.
func openBolt(t *testing.T) reconcile.Store {
	t.Helper()
	s, err := reconcile.OpenBoltStore(filepath.Join(t.TempDir(), "journal.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// get reads bucket's key in s.
func get(t *testing.T, s reconcile.Store, bucket, key string) []byte {
	t.Helper()
	var v []byte
	if err := s.View(func(tx reconcile.Tx) error { v = tx.Get(bucket, key); return nil }); err != nil {
		t.Fatal(err)
	}
	return v
}

// put writes bucket's key in part of s.
func put(s reconcile.Store, part, bucket, key, value string) error {
	return s.Update(part, func(tx reconcile.Tx) error { return tx.Put(bucket, key, []byte(value)) })
}

// keys lists bucket's keys with prefix in s, in order.
func keys(t *testing.T, s reconcile.Store, bucket, prefix string) []string {
	t.Helper()
	var out []string
	err := s.View(func(tx reconcile.Tx) error {
		return tx.ForEach(bucket, prefix, func(k string, _ []byte) error { out = append(out, k); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
