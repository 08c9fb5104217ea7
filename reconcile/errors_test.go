package reconcile_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
)

func TestPolicyOf(t *testing.T) {
	tests := []struct {
		err  error
		want reconcile.Policy
	}{
		{nil, reconcile.PolicyNone},
		{errors.New("connection reset"), reconcile.PolicyBackoff},
		{reconcile.Stalled(errors.New("invalid spec")), reconcile.PolicyStall},
		{fmt.Errorf("environment production: %w", reconcile.Stalled(errors.New("forbidden"))), reconcile.PolicyStall},
		{reconcile.Waiting(time.Minute, "waiting for %d approving review", 1), reconcile.PolicyRequeue},
		{fmt.Errorf("gate: %w", reconcile.Waiting(time.Minute, "x")), reconcile.PolicyRequeue},
	}
	for _, tt := range tests {
		if got := reconcile.PolicyOf(tt.err); got != tt.want {
			t.Errorf("PolicyOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if reconcile.Stalled(nil) != nil {
		t.Error("Stalled(nil) must be nil")
	}
	var w *reconcile.WaitingError
	if err := fmt.Errorf("x: %w", reconcile.Waiting(42*time.Second, "approval")); !errors.As(err, &w) || w.RequeueAfter != 42*time.Second {
		t.Errorf("requeue after = %v", w)
	}
}
