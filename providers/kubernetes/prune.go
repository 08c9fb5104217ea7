package kubernetes

import (
	"context"
	"errors"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jibe-dev/jibe/reconcile"
)

// inventoryRef locates the session's inventory ConfigMap.
func (s *session) inventoryRef() objectRef {
	return objectRef{Version: "v1", Kind: "ConfigMap", Namespace: s.d.Namespace,
		Name: inventoryName(s.d.App, s.d.Env, s.d.Target.Name)}
}

// inventory reads the inventory, from the live cache when cached is set
// (which has seen Jibe's own writes: Diff, and the writes of a rollout)
// or else from the API server; a missing one is empty.
func (s *session) inventory(ctx context.Context, cached bool) (inventory, error) {
	var u *unstructured.Unstructured
	var err error
	if cached {
		u, err = s.cl.cached(ctx, s.inventoryRef())
	} else {
		u, err = s.cl.get(ctx, s.inventoryRef())
	}
	if err != nil {
		return inventory{}, err
	}
	inv, err := decodeInventory(u)
	if err != nil {
		return inv, err
	}
	if err := inv.ownedBy(s.d.Source, s.d.Namespace, s.inventoryRef().Name); err != nil {
		return inventory{}, reconcile.Stalled(err)
	}
	return inv, nil
}

// owner is the source an inventory written by the session records: the
// deployment's, or inv's own when the deployment has none.
func (s *session) owner(inv inventory) string {
	if s.d.Source != "" {
		return s.d.Source
	}
	return inv.Source
}

// updateInventory stores inv unless it holds what was, as read before, already
// holds (the same objects, retained objects and owner): a revision that
// changes no object's identity costs no inventory write.
func (s *session) updateInventory(ctx context.Context, was, inv inventory) error {
	if s.owner(inv) == was.Source && slices.Equal(inv.Objects, was.Objects) && slices.Equal(inv.Retained, was.Retained) {
		return nil
	}
	return s.writeInventory(ctx, inv)
}

// writeInventory stores inv, owned by the deployment's source; an empty
// inventory is deleted.
func (s *session) writeInventory(ctx context.Context, inv inventory) error {
	if len(inv.Objects) == 0 && len(inv.Retained) == 0 {
		return s.cl.deleteOne(ctx, s.inventoryRef(), s.w)
	}
	inv.Source = s.owner(inv)
	u, err := inv.configMap(s.d.Namespace, s.inventoryRef().Name, s.lay.stamp)
	if err != nil {
		return err
	}
	// The inventory is Jibe's alone: take it over from any other manager.
	_, err = s.cl.applyOne(ctx, object{u: u}, writeOpts{force: true, allow: s.w.allow})
	return err
}

// applyRecorded applies objs and adds them to the inventory, which keeps
// the objects applied before: only a promotion or rollback prunes. The
// inventory is written even when an apply fails, so that what was written
// is never forgotten.
func (s *session) applyRecorded(ctx context.Context, objs []object) error {
	was, err := s.inventory(ctx, true)
	if err != nil {
		return err
	}
	applyErr := s.apply(ctx, objs)
	inv := was
	inv.Objects = union(was.Objects, refsOf(objs))
	inv.Revision = s.d.Revision
	if err := s.updateInventory(ctx, was, inv); err != nil && applyErr == nil {
		return err
	}
	return applyErr
}

// prune deletes the inventory's objects that are neither in final nor in
// retain, records retain as retained, and writes the inventory, at
// revision, as final plus the objects that could not be deleted, so that a
// later prune retries them (kustomize-controller's inventory Merge).
func (s *session) prune(ctx context.Context, final []object, retain []objectRef, revision string) error {
	was, err := s.inventory(ctx, true)
	if err != nil {
		return err
	}
	keep := refsOf(final)
	survivors, errs := s.deleteAll(ctx, minus(minus(was.Objects, keep), retain), len(keep) > 0)
	inv := was
	inv.Objects = union(survivors, keep)
	inv.Retained = minus(union(was.Retained, retain), keep)
	inv.Revision = revision
	if err := s.updateInventory(ctx, was, inv); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deleteAll deletes refs in reverse apply order and returns those it could
// not delete with the errors. While the inventory stays in use, its own
// namespace is kept.
func (s *session) deleteAll(ctx context.Context, refs []objectRef, inUse bool) (survivors []objectRef, errs []error) {
	for _, r := range deleteOrder(refs) {
		if inUse && r.id() == s.inventoryNamespaceRef().id() {
			survivors = append(survivors, r)
			continue
		}
		if err := s.cl.deleteOne(ctx, r, s.w); err != nil {
			survivors, errs = append(survivors, r), append(errs, err)
			continue
		}
		s.log.InfoContext(ctx, "deleted", "object", r.String())
	}
	return survivors, errs
}

// inventoryNamespaceRef is the Namespace object holding the inventory.
func (s *session) inventoryNamespaceRef() objectRef {
	return objectRef{Version: "v1", Kind: "Namespace", Name: s.d.Namespace}
}

// deleteOrder returns refs in reverse apply order: namespaces and CRDs
// last.
func deleteOrder(refs []objectRef) []objectRef {
	out := slices.Clone(refs)
	sortRefs(out)
	slices.Reverse(out)
	return out
}

// deleteRetained deletes the inventory's retained objects, keeping those
// that could not be deleted.
func (s *session) deleteRetained(ctx context.Context) error {
	inv, err := s.inventory(ctx, false)
	if err != nil || len(inv.Retained) == 0 {
		return err // Nothing retained: no write.
	}
	survivors, errs := s.deleteAll(ctx, inv.Retained, true)
	inv.Retained = survivors
	if err := s.writeInventory(ctx, inv); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
