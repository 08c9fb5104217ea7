package lambda

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// fullFunction sets every field of the function file that a Zip function
// takes.
func fullFunction() *spec.LambdaFunction {
	fn := function("orders-1.zip")
	fn.Description = "Orders API"
	fn.Code.S3ObjectVersion = "v1"
	fn.PackageType = "Zip"
	fn.Timeout = aws.Int32(15)
	fn.VpcConfig = &spec.LambdaVpcConfig{SubnetIds: []string{"subnet-b", "subnet-a"}, SecurityGroupIds: []string{"sg-1"}, Ipv6AllowedForDualStack: aws.Bool(true)}
	fn.DeadLetterConfig = &spec.LambdaDeadLetterConfig{TargetArn: "arn:aws:sqs:us-east-1:111111111111:orders-dlq"}
	fn.TracingConfig = &spec.LambdaTracingConfig{Mode: "Active"}
	fn.Architectures = []string{"arm64"}
	fn.Layers = []string{"arn:aws:lambda:us-east-1:111111111111:layer:otel:3", "arn:aws:lambda:us-east-1:111111111111:layer:insights:20"}
	fn.ReservedConcurrentExecutions = aws.Int32(50)
	fn.EphemeralStorage = &spec.LambdaEphemeralStorage{Size: 1024}
	fn.KMSKeyArn = "arn:aws:kms:us-east-1:111111111111:key/1234"
	fn.LoggingConfig = &spec.LambdaLoggingConfig{LogFormat: "JSON", LogGroup: "/orders", ApplicationLogLevel: "DEBUG", SystemLogLevel: "WARN"}
	fn.FileSystemConfigs = []spec.LambdaFileSystemConfig{{Arn: "arn:aws:elasticfilesystem:us-east-1:111111111111:access-point/fsap-1", LocalMountPath: "/mnt/data"}}
	fn.SnapStart = &spec.LambdaSnapStart{ApplyOn: "PublishedVersions"}
	return fn
}

func TestCreateWithEveryFieldReadsBackThenNoOpWritesNothing(t *testing.T) {
	r := newRig(t, Options{})
	d := r.deployment("rev1", fullFunction(), nil)
	changes, err := r.p.Diff(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Action != reconcile.ActionCreate || changes[1].Resource != "Lambda alias orders:live" {
		t.Fatalf("first diff = %+v, want function and alias created", changes)
	}
	if w := r.writes(); len(w) != 0 {
		t.Fatalf("Diff made write calls: %v", w)
	}
	r.rollout(d)

	got, err := r.fn.GetFunction(r.ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	var reserved *int32
	if got.Concurrency != nil {
		reserved = got.Concurrency.ReservedConcurrentExecutions
	}
	back := liveFunction(got.Configuration, reserved)
	fields, err := apidiff.Fields("", normalize(back), normalize(*fullFunction()))
	if err != nil || len(fields) != 0 {
		t.Errorf("read back differs from the file: %+v %v", fields, err)
	}
	ver, err := r.fn.GetFunctionConfiguration(r.ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if vf, err := configFields(fullFunction(), &types.FunctionConfiguration{}); err != nil || len(vf) == 0 {
		t.Fatalf("configFields of an empty configuration = %v, %v", vf, err)
	}
	var vc types.FunctionConfiguration
	if err := apidiff.Recode(ver, &vc); err != nil {
		t.Fatal(err)
	}
	if vf, _ := configFields(fullFunction(), &vc); len(vf) != 0 {
		t.Errorf("version 1 differs from the file: %+v", vf)
	}
	if d := aws.ToString(ver.Description); d != "jibe revision=rev1 code="+codeID(fullFunction().Code) {
		t.Errorf("version description %q", d)
	}
	for k, v := range map[string]string{"team": "orders", TagApp: "orders", TagEnvironment: "prod", TagRevision: "rev1"} {
		if got.Tags[k] != v {
			t.Errorf("tag %s = %q, want %q (tags %v)", k, got.Tags[k], v, got.Tags)
		}
	}
	if v, w := r.routing(); v != "1" || w != nil {
		t.Errorf("alias at %s %v, want version 1 alone", v, w)
	}

	r.env.Emu.ResetRequests()
	if changes, err := r.p.Diff(r.ctx, d); err != nil || len(changes) != 0 {
		t.Errorf("diff after apply = %+v, %v; want none", changes, err)
	}
	r.rollout(d)
	if w := r.writes(); len(w) != 0 {
		t.Errorf("no-op reconcile made write calls: %v", w)
	}
	if vs := r.versionList(); len(vs) != 1 {
		t.Errorf("versions %v, want one", vs)
	}
}

func TestUpdatesCodeOnlyConfigurationOnlyOrBoth(t *testing.T) {
	cases := []struct {
		name   string
		change func(*spec.LambdaFunction)
		paths  []string
		writes []string
	}{
		{"code", func(f *spec.LambdaFunction) { f.Code.S3Key = "orders-2.zip" }, []string{"Code"},
			[]string{"UpdateFunctionCode", "TagResource", "PublishVersion", "TagResource", "UpdateAlias"}},
		{"configuration", func(f *spec.LambdaFunction) { f.MemorySize = aws.Int32(512); f.Environment.Variables["MODE"] = "fast" },
			[]string{"Environment.Variables.MODE", "MemorySize"},
			[]string{"UpdateFunctionConfiguration", "PublishVersion", "TagResource", "UpdateAlias"}},
		{"both", func(f *spec.LambdaFunction) { f.Code.S3Key = "orders-2.zip"; f.Timeout = aws.Int32(30) }, []string{"Timeout", "Code"},
			[]string{"UpdateFunctionCode", "TagResource", "UpdateFunctionConfiguration", "PublishVersion", "TagResource", "UpdateAlias"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Options{})
			v1 := r.deployment("rev1", function("orders-1.zip"), nil)
			r.rollout(v1)
			fn := function("orders-1.zip")
			tc.change(fn)
			v2 := r.next(v1, "rev2", fn)
			changes, err := r.p.Diff(r.ctx, v2)
			if err != nil || len(changes) != 1 {
				t.Fatalf("diff = %+v, %v; want one change of the function", changes, err)
			}
			var paths []string
			for _, f := range changes[0].Fields {
				paths = append(paths, f.Path)
				if f.Path == "Code" && (!strings.HasPrefix(f.Live, "CodeSha256 ") || !strings.Contains(f.Desired, "orders-2.zip")) {
					t.Errorf("code change %+v, want old CodeSha256 → new package", f)
				}
			}
			if !slices.Equal(paths, tc.paths) {
				t.Errorf("changed fields %v, want %v", paths, tc.paths)
			}
			r.env.Emu.ResetRequests()
			r.rollout(v2)
			if w := r.writes(); !slices.Equal(w, tc.writes) {
				t.Errorf("write calls %v, want %v", w, tc.writes)
			}
			if v, _ := r.routing(); v != "2" {
				t.Errorf("alias at version %s, want 2", v)
			}
			if changes, err := r.p.Diff(r.ctx, v2); err != nil || len(changes) != 0 {
				t.Errorf("diff after rollout = %+v, %v", changes, err)
			}
			// Diff after the code update shows the new package's CodeSha256.
		})
	}
}

func TestFieldsRemovedFromTheFileAreRemovedFromTheFunction(t *testing.T) {
	r := newRig(t, Options{})
	v1 := r.deployment("rev1", fullFunction(), nil)
	r.rollout(v1)
	v2 := r.next(v1, "rev2", function("orders-1.zip"))
	v2.Target.Function.Code.S3ObjectVersion = "v1"
	changes, err := r.p.Diff(r.ctx, v2)
	if err != nil || len(changes) != 1 {
		t.Fatalf("diff = %+v, %v", changes, err)
	}
	r.rollout(v2)
	if changes, err := r.p.Diff(r.ctx, v2); err != nil || len(changes) != 0 {
		t.Errorf("diff after removing fields = %+v, %v; want none", changes, err)
	}
	got, err := r.fn.GetFunction(r.ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Configuration
	if c.VpcConfig != nil && len(c.VpcConfig.SubnetIds) > 0 || len(c.Layers) > 0 || c.DeadLetterConfig != nil && aws.ToString(c.DeadLetterConfig.TargetArn) != "" ||
		aws.ToString(c.KMSKeyArn) != "" || aws.ToString(c.Description) != "" || got.Concurrency != nil && got.Concurrency.ReservedConcurrentExecutions != nil {
		t.Errorf("removed fields are still set: %+v, concurrency %+v", c, got.Concurrency)
	}
}

func TestImageFunction(t *testing.T) {
	r := newRig(t, Options{})
	image := func(tag string) *spec.LambdaFunction {
		return &spec.LambdaFunction{FunctionName: "orders", Role: "arn:aws:iam::111111111111:role/orders", PackageType: "Image",
			Code: spec.LambdaCode{ImageUri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/orders:" + tag}, ImageConfig: &spec.LambdaImageConfig{Command: []string{"app.handler"}}}
	}
	v1 := r.deployment("rev1", image("1"), nil)
	r.rollout(v1)
	v2 := r.next(v1, "rev2", image("2"))
	changes, err := r.p.Diff(r.ctx, v2)
	if err != nil || len(changes) != 1 || len(changes[0].Fields) != 1 || changes[0].Fields[0].Path != "Code" || !strings.Contains(changes[0].Fields[0].Desired, "orders:2") {
		t.Fatalf("diff = %+v, %v; want the image", changes, err)
	}
	r.rollout(v2)
	if changes, err := r.p.Diff(r.ctx, v2); err != nil || len(changes) != 0 {
		t.Errorf("diff after rollout = %+v, %v", changes, err)
	}
	if v, _ := r.routing(); v != "2" {
		t.Errorf("alias at %s, want 2", v)
	}
}

func TestRemoveDeletesOnlyAFunctionJibeCreatedForTheEnvironment(t *testing.T) {
	r := newRig(t, Options{})
	d := r.deployment("rev1", function("orders-1.zip"), nil)
	r.rollout(d)
	other := r.deployment("rev1", function("orders-1.zip"), nil)
	other.Env = "staging"
	if err := r.p.Remove(r.ctx, other); err != nil {
		t.Fatal(err)
	}
	if vs := r.versionList(); len(vs) != 1 {
		t.Fatalf("Remove for another environment deleted the function: versions %v", vs)
	}
	if err := r.p.Remove(r.ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fn.GetFunction(r.ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("orders")}); err == nil {
		t.Errorf("the function is still there after Remove")
	}
	if err := r.p.Remove(r.ctx, d); err != nil {
		t.Errorf("removing a removed function: %v", err)
	}
}
