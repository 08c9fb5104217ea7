package reconcile_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/providers/aws/lambda"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// linearApp is a Lambda application whose environment prod runs the
// canary written as strategy.
func linearApp(t *testing.T, strategy string) *spec.Rendered {
	t.Helper()
	fsys := fstest.MapFS{
		"jibe.yaml": {Data: []byte(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: orders}
spec:
  targets:
    - name: api
      lambda: {function: function.yaml}
  environments:
    - name: prod
      aws: {account: prod}
      strategy:
        canary:
` + strategy)},
		"function.yaml": {Data: []byte("FunctionName: orders\nRole: arn:aws:iam::111111111111:role/orders\nRuntime: python3.12\nHandler: app.handler\nCode: {S3Bucket: b, S3Key: k.zip}\n")},
	}
	app, err := spec.LoadFS(fsys, "orders", spec.WithPlatforms(lambda.Capabilities))
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.Render("prod")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// planText writes a plan's steps as "apply wait-healthy shift-traffic:10
// pause:1m0s ...".
func planText(steps []reconcile.Step) string {
	var out []string
	for _, s := range steps {
		switch s.Kind {
		case reconcile.StepShiftTraffic:
			out = append(out, fmt.Sprintf("%s:%v", s.Kind, float64(s.Weight)))
		case reconcile.StepPause:
			out = append(out, fmt.Sprintf("%s:%v", s.Kind, s.Duration))
		default:
			out = append(out, s.Kind.String())
		}
	}
	return strings.Join(out, " ")
}

func TestLinearCanaryPlansTheStepsItStandsFor(t *testing.T) {
	update := []reconcile.Change{{Target: "api", Resource: "Lambda function orders", Action: reconcile.ActionUpdate}}
	for _, tc := range []struct {
		name, strategy, want string
	}{
		{"linear 25% every 5m", "          linear: {stepWeight: 25, interval: 5m}\n",
			"apply wait-healthy shift-traffic:25 pause:5m0s shift-traffic:50 pause:5m0s shift-traffic:75 pause:5m0s shift-traffic:100 promote cleanup"},
		{"linear 40% every 30s", "          linear: {stepWeight: \"40%\", interval: 30s}\n",
			"apply wait-healthy shift-traffic:40 pause:30s shift-traffic:80 pause:30s shift-traffic:100 promote cleanup"},
		{"the same steps written out", "          steps:\n            - setWeight: 25\n            - pause: {duration: 5m}\n            - setWeight: 50\n            - pause: {duration: 5m}\n            - setWeight: 75\n            - pause: {duration: 5m}\n",
			"apply wait-healthy shift-traffic:25 pause:5m0s shift-traffic:50 pause:5m0s shift-traffic:75 pause:5m0s shift-traffic:100 promote cleanup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := reconcile.Build("orders", "abc", []reconcile.EnvInput{{Rendered: linearApp(t, tc.strategy), Changes: update}})
			if got := planText(p.Environments[0].Steps); got != tc.want {
				t.Errorf("plan\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
