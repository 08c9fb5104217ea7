package lambda

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// mapTo maps a queue to function orders, qualified as ref says ("" for
// the unqualified function).
func (r *rig) mapTo(queue, ref string) {
	r.t.Helper()
	name := "orders"
	if ref != "" {
		name += ":" + ref
	}
	_, err := r.fn.CreateEventSourceMapping(r.ctx, &awslambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		EventSourceArn: aws.String("arn:aws:sqs:" + r.env.Region + ":111111111111:" + queue)})
	if err != nil {
		r.t.Fatal(err)
	}
}

func TestOldVersionsArePrunedButNeverOneAnEventSourceMappingUses(t *testing.T) {
	r := newRig(t, Options{KeepVersions: 2})
	d := r.deployment("rev1", function("orders-1.zip"), nil)
	r.rollout(d)
	d = r.next(d, "rev2", function("orders-2.zip"))
	r.rollout(d)
	r.mapTo("jobs", "1")     // a version beyond the keep count
	r.mapTo("events", "")    // the unqualified function: $LATEST
	r.mapTo("audit", "live") // the alias: whatever version it points to
	for i, key := range []string{"orders-3.zip", "orders-4.zip", "orders-5.zip"} {
		d = r.next(d, "rev"+string(rune('3'+i)), function(key))
		r.rollout(d)
	}
	if got := strings.Join(r.versionList(), ","); got != "1,4,5" {
		t.Errorf("versions left %s, want 1 (an event source mapping uses it), 4 and 5", got)
	}
}
