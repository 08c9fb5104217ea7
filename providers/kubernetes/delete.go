package kubernetes

import (
	"context"
	"errors"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/jibe-dev/jibe/reconcile"
)

var _ reconcile.Deleter = (*Platform)(nil)

// Delete deletes what the target runs because its application left Git:
// every object of its inventory (applied and retained, in reverse apply
// order), each admitted by the deployment's tenancy first, then, once
// they are all gone, the inventory ConfigMap. Objects Jibe did not apply
// are never touched. While objects are still terminating (finalizers, a
// namespace emptying), it returns Waiting and keeps the inventory, so
// that the next call checks them again. Deleting what is gone is nil.
func (p *Platform) Delete(ctx context.Context, d *reconcile.Deployment) error {
	s, err := p.openWrite(d)
	if err != nil {
		return err
	}
	inv, err := s.inventory(ctx, false)
	if err != nil {
		return err
	}
	all := union(inv.Objects, inv.Retained)
	if len(all) > 0 {
		s.log.InfoContext(ctx, "deleting the target of an application removed from Git", "step", "delete", "objects", len(all))
	}
	survivors, errs := s.deleteAll(ctx, all, false)
	if len(errs) > 0 {
		inv.Objects, inv.Retained = survivors, nil
		if err := s.writeInventory(ctx, inv); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	left, err := s.existing(ctx, all)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return reconcile.Waiting(requeueAfter, "waiting for %d object(s) to be deleted: %s", len(left), strings.Join(left, ", "))
	}
	return s.cl.deleteOne(ctx, s.inventoryRef(), s.w)
}

// existing returns the objects of refs that still exist (terminating).
func (s *session) existing(ctx context.Context, refs []objectRef) ([]string, error) {
	var out []string
	for _, r := range refs {
		u, err := s.cl.get(ctx, r)
		if err != nil {
			var noMatch *meta.NoKindMatchError
			if errors.As(err, &noMatch) || meta.IsNoMatchError(err) {
				continue // The kind is gone, and its objects with it.
			}
			return nil, err
		}
		if u != nil {
			out = append(out, r.String())
		}
	}
	return out, nil
}
