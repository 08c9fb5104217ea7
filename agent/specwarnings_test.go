package agent

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination safe for the agent's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The warnings of a spec (a deprecated Lambda runtime) are logged once per
// revision, however often the revision is reconciled, with their place.
func TestSpecWarningsLoggedOncePerRevision(t *testing.T) {
	var logs lockedBuffer
	h := newHarnessWith(t, agentConfig, func(_ *harness, o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	fn := func(memory string) map[string]string {
		return map[string]string{
			"apps/fn/jibe.yaml": "apiVersion: jibe.dev/v1alpha1\nkind: Application\nmetadata: {name: fn}\nspec:\n" +
				"  targets: [{name: fn, lambda: {function: function.yaml}}]\n  environments: [{name: dev, aws: {account: dev}}]\n",
			"apps/fn/function.yaml": "FunctionName: fn\nRole: arn:aws:iam::123456789012:role/fn\nRuntime: python3.8\nHandler: app.handler\n" +
				"MemorySize: " + memory + "\nCode: {S3Bucket: b, S3Key: k.zip}\n",
		}
	}
	h.push(fn("256"))
	_ = h.agent.reconcile(t.Context(), "shop/apps/fn") // the same revision again
	want := `msg="the spec has a warning" source=shop app=fn`
	if n := strings.Count(logs.String(), want); n != 1 {
		t.Fatalf("%d warnings logged for one revision, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `warning="apps/fn/function.yaml:3:10: Runtime: python3.8 is deprecated since 2024-10-14`) {
		t.Errorf("the warning lacks its place or text:\n%s", logs.String())
	}
	h.push(fn("512"))
	if n := strings.Count(logs.String(), want); n != 2 {
		t.Errorf("%d warnings logged for two revisions, want 2:\n%s", n, logs.String())
	}
}
