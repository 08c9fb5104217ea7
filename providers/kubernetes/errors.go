package kubernetes

import (
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/reconcile"
)

// pollInterval is how often a wait inside a call re-reads the cluster.
const pollInterval = 250 * time.Millisecond

// requeueAfter is when a Waiting error asks to be checked again.
const requeueAfter = 5 * time.Second

// classify wraps err from an operation (e.g. "apply apps/v1 Deployment
// shop/web") with its retry policy: forbidden, invalid and conflicting
// writes are stalled with what to fix; anything else is transient.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	switch {
	case apierrors.IsForbidden(err):
		return reconcile.Stalled(fmt.Errorf("%s: forbidden; grant the agent's identity this permission in the cluster's RBAC: %w", op, err))
	case apierrors.IsConflict(err) && errors.As(err, &status) && hasManagerConflict(status.Status()):
		return reconcile.Stalled(fmt.Errorf("%s: %s; remove the other manager's fields, or set ForceConflicts to take them over: %w",
			op, describeConflicts(status.Status()), err))
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsMethodNotSupported(err):
		return reconcile.Stalled(fmt.Errorf("%s: the API server rejects the object; fix the manifest: %w", op, err))
	case apierrors.IsNotFound(err) && strings.HasPrefix(op, "apply"):
		return reconcile.Stalled(fmt.Errorf("%s: its namespace does not exist; add the Namespace to the manifests or create it: %w", op, err))
	case meta.IsNoMatchError(err):
		return reconcile.Stalled(fmt.Errorf("%s: the cluster does not serve this kind; install its CRD or fix apiVersion: %w", op, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// hasManagerConflict reports whether a conflict is server-side apply's.
func hasManagerConflict(s metav1.Status) bool {
	if s.Details == nil {
		return false
	}
	for _, c := range s.Details.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			return true
		}
	}
	return false
}

// describeConflicts names each conflicting field and its manager, e.g.
// `.spec.replicas is managed by "kubectl-edit"`.
func describeConflicts(s metav1.Status) string {
	var parts []string
	for _, c := range s.Details.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			// c.Message is `conflict with "manager" using apps/v1`.
			manager := strings.TrimPrefix(c.Message, "conflict with ")
			parts = append(parts, fmt.Sprintf("%s is managed by %s", c.Field, manager))
		}
	}
	return "field conflicts: " + strings.Join(parts, ", ")
}
