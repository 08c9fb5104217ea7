package spec_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// baseFiles is a valid application with one target of each platform;
// each rule case patches one file of it.
var baseFiles = map[string]string{
	"jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: shop
spec:
  artifacts:
    web:
      image: registry.example.com/shop/web:1.0.0
    code:
      s3: {bucket: artifacts, key: fn.zip}
    ami:
      ami: ami-0123456789abcdef0
  variables:
    cluster: main
  targets:
    - name: web
      ecs:
        taskDefinition: taskdef.yaml
        service: service.yaml
        traffic:
          listenerArn: arn:listener
          stableTargetGroupArn: arn:tg/blue
          canaryTargetGroupArn: arn:tg/green
    - name: site
      kubernetes:
        manifests: k8s
    - name: fn
      lambda:
        function: function.yaml
    - name: vms
      autoScalingGroup:
        name: vms
        launchTemplate: {imageId: "${artifacts.ami}", instanceType: t3.small}
        minSize: 1
        maxSize: 3
        subnets: [subnet-1]
  environments:
    - name: staging
      aws:
        account: staging
      kubernetes:
        cluster: staging
      targets: [web, site, fn]
      strategy:
        canary:
          steps:
            - setWeight: 10
            - pause: {duration: 1m}
            - setWeight: 50
      verify:
        - http: {url: "https://staging.example.com/healthz"}
    - name: production
      aws:
        account: prod
      kubernetes:
        cluster: prod
      approval:
        reviews: 1
`,
	"taskdef.yaml": `family: web
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: "256"
memory: "512"
containerDefinitions:
  - name: web
    image: ${artifacts.web}
    portMappings:
      - containerPort: 8080
`,
	"service.yaml": `serviceName: web
cluster: ${vars.cluster}
desiredCount: 2
launchType: FARGATE
networkConfiguration:
  awsvpcConfiguration:
    subnets: [subnet-1]
loadBalancers:
  - targetGroupArn: arn:tg/blue
    containerName: web
    containerPort: 8080
`,
	"function.yaml": `FunctionName: fn-${env.name}
Role: arn:aws:iam::111111111111:role/fn
Runtime: python3.12
Handler: app.handler
Code:
  S3Bucket: ${artifacts.code.bucket}
  S3Key: ${artifacts.code.key}
`,
	"k8s/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  template:
    spec:
      containers:
        - name: site
          image: ${artifacts.web}
`,
}

type patch struct {
	file, old, new string
}

// ruleCases has one case per validation rule. Their messages are in
// testdata/rules.golden.
var ruleCases = []struct {
	name    string
	patches []patch
}{
	{"unknown field with suggestion", []patch{{"jibe.yaml", "  environments:", "  enviroments: []\n  environments:"}}},
	{"unknown field in environment", []patch{{"jibe.yaml", "      approval:\n", "      stratgy: {}\n      approval:\n"}}},
	{"wrong apiVersion", []patch{{"jibe.yaml", "jibe.dev/v1alpha1", "jibe.dev/v1"}}},
	{"wrong kind", []patch{{"jibe.yaml", "kind: Application", "kind: Deployment"}}},
	{"invalid application name", []patch{{"jibe.yaml", "name: shop", "name: Shop_Front"}}},
	{"missing required fields", []patch{{"jibe.yaml", "metadata:\n  name: shop\n", "metadata: {}\n"}}},
	{"no targets", []patch{{"jibe.yaml", "  targets:\n    - name: web\n", "  targetz:\n    - name: web\n"}}},
	{"empty environments", []patch{{"jibe.yaml", "  environments:\n    - name: staging\n", "  environments: []\n  other:\n    - name: staging\n"}}},
	{"wrong type", []patch{{"jibe.yaml", "reviews: 1", "reviews: one"}}},
	{"duplicate key", []patch{{"jibe.yaml", "      approval:\n", "      rollback: manual\n      rollback: automatic\n      approval:\n"}}},
	{"artifact with two kinds", []patch{{"jibe.yaml", "      ami: ami-0123456789abcdef0", "      ami: ami-0123456789abcdef0\n      image: x/y:1"}}},
	{"artifact with no kind", []patch{{"jibe.yaml", "    ami:\n      ami: ami-0123456789abcdef0", "    ami: {}"}}},
	{"invalid image reference", []patch{{"jibe.yaml", "registry.example.com/shop/web:1.0.0", "registry.example.com/shop/web:1.0.0 latest"}}},
	{"invalid AMI", []patch{{"jibe.yaml", "ami-0123456789abcdef0", "image-123"}}},
	{"invalid variable name", []patch{{"jibe.yaml", "    cluster: main", "    cluster: main\n    2fast: x"}}},
	{"duplicate target", []patch{{"jibe.yaml", "    - name: site\n", "    - name: web\n"}}},
	{"target without platform", []patch{{"jibe.yaml", "    - name: site\n      kubernetes:\n        manifests: k8s\n", "    - name: site\n"}}},
	{"target with two platforms", []patch{{"jibe.yaml", "        manifests: k8s\n", "        manifests: k8s\n      lambda: {function: function.yaml}\n"}}},
	{"duplicate environment", []patch{{"jibe.yaml", "    - name: production", "    - name: staging"}}},
	{"undefined target in environment", []patch{{"jibe.yaml", "targets: [web, site, fn]", "targets: [web, website]"}}},
	{"target listed twice", []patch{{"jibe.yaml", "targets: [web, site, fn]", "targets: [web, web]"}}},
	{"AWS target without account", []patch{{"jibe.yaml", "      aws:\n        account: prod\n", ""}}},
	{"Kubernetes target without cluster", []patch{{"jibe.yaml", "      kubernetes:\n        cluster: staging\n", ""}}},
	{"two strategies", []patch{{"jibe.yaml", "        canary:\n          steps:", "        rolling: {}\n        canary:\n          steps:"}}},
	{"weights not increasing", []patch{{"jibe.yaml", "setWeight: 50", "setWeight: 5"}}},
	{"weight above 100", []patch{{"jibe.yaml", "setWeight: 50", "setWeight: 150"}}},
	{"weight not a number", []patch{{"jibe.yaml", "setWeight: 50", "setWeight: half"}}},
	{"zero weight", []patch{{"jibe.yaml", "setWeight: 10", "setWeight: 0%"}}},
	{"bad duration", []patch{{"jibe.yaml", "pause: {duration: 1m}", "pause: {duration: 1 minute}"}}},
	{"negative duration", []patch{{"jibe.yaml", "pause: {duration: 1m}", "pause: {duration: -1m}"}}},
	{"zero pause", []patch{{"jibe.yaml", "pause: {duration: 1m}", "pause: {duration: 0s}"}}},
	{"canary step with two kinds", []patch{{"jibe.yaml", "- pause: {duration: 1m}", "- pause: {duration: 1m}\n              setWeight: 20"}}},
	{"canary on ECS without traffic", []patch{{"jibe.yaml", "        traffic:\n          listenerArn: arn:listener\n          stableTargetGroupArn: arn:tg/blue\n          canaryTargetGroupArn: arn:tg/green\n", ""}}},
	{"canary on Auto Scaling group", []patch{{"jibe.yaml", "targets: [web, site, fn]", "targets: [web, vms]"}}},
	{"traffic with listener and rule", []patch{{"jibe.yaml", "listenerArn: arn:listener", "listenerArn: arn:listener\n          listenerRuleArn: arn:rule"}}},
	{"same stable and canary target group", []patch{{"jibe.yaml", "canaryTargetGroupArn: arn:tg/green", "canaryTargetGroupArn: arn:tg/blue"}}},
	{"check without kind", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- interval: 10s"}}},
	{"bad status and method", []patch{{"jibe.yaml", "{url: \"https://staging.example.com/healthz\"}", "{url: \"https://staging.example.com/healthz\", expectStatus: [200, 700], method: get}"}}},
	{"bad check URL", []patch{{"jibe.yaml", "https://staging.example.com/healthz", "staging.example.com/healthz"}}},
	{"zero interval", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- http: {url: \"https://staging.example.com/healthz\"}\n          interval: 0s"}}},
	{"bad inconclusive policy", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- http: {url: \"https://staging.example.com/healthz\"}\n          inconclusive: ignore"}}},
	{"cloudwatch metric and expression", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- cloudWatch:\n            expression: a / b\n            metric: {namespace: AWS/ELB, name: X, statistic: Sum}\n            threshold: {max: 1}"}}},
	{"cloudwatch expression without metrics", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- cloudWatch:\n            expression: a / b\n            threshold: {max: 1}"}}},
	{"cloudwatch bad metric id", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- cloudWatch:\n            expression: A\n            metrics:\n              A: {namespace: AWS/ELB, name: X, statistic: Sum}\n            threshold: {max: 1}"}}},
	{"threshold without bounds", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- prometheus: {server: prod, query: up, threshold: {}}"}}},
	{"threshold min above max", []patch{{"jibe.yaml", "- http: {url: \"https://staging.example.com/healthz\"}", "- prometheus: {server: prod, query: up, threshold: {min: 2, max: 1}}"}}},
	{"negative reviews", []patch{{"jibe.yaml", "reviews: 1", "reviews: -1"}}},
	{"bad approver team and permission", []patch{{"jibe.yaml", "reviews: 1", "reviews: 1\n        from: {teams: [sre], permission: owner}"}}},
	{"bad rollback policy", []patch{{"jibe.yaml", "      approval:\n", "      rollback: sometimes\n      approval:\n"}}},
	{"invalid lambda alias", []patch{{"jibe.yaml", "function: function.yaml\n", "function: function.yaml\n        alias: \"42\"\n"}}},
	{"linear with steps", []patch{{"jibe.yaml", "          steps:\n", "          linear: {stepWeight: 10, interval: 1m}\n          steps:\n"}}},
	{"linear out of range", []patch{{"jibe.yaml", "          steps:\n            - setWeight: 10\n            - pause: {duration: 1m}\n            - setWeight: 50\n", "          linear: {stepWeight: 100, interval: 0s}\n"}}},
	{"canary without steps", []patch{{"jibe.yaml", "          steps:\n            - setWeight: 10\n            - pause: {duration: 1m}\n            - setWeight: 50\n", "          {}\n"}}},
	{"zip of a missing folder", []patch{{"function.yaml", "  S3Bucket: ${artifacts.code.bucket}\n  S3Key: ${artifacts.code.key}\n", "  Folder: src\n"}}},
	{"zip folder with an S3 package", []patch{{"function.yaml", "  S3Bucket:", "  Folder: k8s\n  S3Bucket:"}}},
	{"zip folder escaping the application", []patch{{"function.yaml", "  S3Bucket: ${artifacts.code.bucket}\n  S3Key: ${artifacts.code.key}\n", "  Folder: ../src\n"}}},
	{"zero provisioned concurrency", []patch{{"jibe.yaml", "function: function.yaml\n", "function: function.yaml\n        provisionedConcurrency: 0\n"}}},
	{"invalid workload reference", []patch{{"jibe.yaml", "manifests: k8s\n", "manifests: k8s\n        workload: web\n"}}},
	{"Auto Scaling group sizes", []patch{{"jibe.yaml", "minSize: 1\n        maxSize: 3", "minSize: 4\n        maxSize: 3\n        desiredCapacity: 9\n        healthCheckType: ELB"}}},
	{"autoscaling bounds and desiredCount", []patch{{"jibe.yaml", "        traffic:\n", "        autoScaling:\n          minCapacity: 5\n          maxCapacity: 2\n          policies:\n            - name: cpu\n              targetTracking: {targetValue: 50}\n            - name: cpu\n              stepScaling: {adjustmentType: ChangeInCapacity, steps: [{adjustment: 1}]}\n              targetTracking: {targetValue: 1, predefinedMetric: ALBRequestCountPerTarget}\n          scheduledActions:\n            - {name: night, schedule: every night, minCapacity: 3, maxCapacity: 1}\n        traffic:\n"}}},
	{"predictive scaling of an ECS service", []patch{{"jibe.yaml", "        traffic:\n", "        autoScaling:\n          minCapacity: 1\n          maxCapacity: 2\n          policies:\n            - name: forecast\n              predictiveScaling: {targetValue: 50, predefinedMetricPair: ASGCPUUtilization}\n        traffic:\n"}}},
	{"rolling checkpoints of an ECS service", []patch{{"jibe.yaml", "      approval:\n", "      strategy: {rolling: {steps: [{setWeight: 50}]}}\n      approval:\n"}}},
	{"undefined artifact placeholder", []patch{{"taskdef.yaml", "${artifacts.web}", "${artifacts.api}"}}},
	{"undefined artifact part", []patch{{"taskdef.yaml", "${artifacts.web}", "${artifacts.web.bucket}"}}},
	{"undefined variable in one environment", []patch{{"service.yaml", "${vars.cluster}", "${vars.clusterName}"}, {"jibe.yaml", "      approval:\n", "      variables: {clusterName: prod}\n      approval:\n"}}},
	{"unknown placeholder", []patch{{"function.yaml", "fn-${env.name}", "fn-${environment}"}}},
	{"rollout placeholder outside checks", []patch{{"function.yaml", "fn-${env.name}", "fn-${rollout.revision}"}}},
	{"unterminated placeholder", []patch{{"function.yaml", "fn-${env.name}", "fn-${env.name"}}},
	{"placeholder in spec target field", []patch{{"jibe.yaml", "listenerArn: arn:listener", "listenerArn: ${vars.listener}"}}},
	{"path escaping the folder", []patch{{"jibe.yaml", "taskDefinition: taskdef.yaml", "taskDefinition: ../shared/taskdef.yaml"}}},
	{"absolute path", []patch{{"jibe.yaml", "service: service.yaml", "service: /etc/service.yaml"}}},
	{"missing file", []patch{{"jibe.yaml", "function: function.yaml", "function: fn.yaml"}}},
	{"missing manifests folder", []patch{{"jibe.yaml", "manifests: k8s", "manifests: kube"}}},
	{"server-set task definition field", []patch{{"taskdef.yaml", "family: web\n", "family: web\nrevision: 7\nstatus: ACTIVE\n"}}},
	{"task definition set in service file", []patch{{"service.yaml", "serviceName: web\n", "serviceName: web\ntaskDefinition: web:7\n"}}},
	{"enum value with suggestion", []patch{{"service.yaml", "launchType: FARGATE", "launchType: fargate"}}},
	{"wrong type in target file", []patch{{"service.yaml", "desiredCount: 2", "desiredCount: two"}}},
	{"load balancer container not in task", []patch{{"service.yaml", "containerName: web", "containerName: api"}}},
	{"load balancer port not exposed", []patch{{"service.yaml", "containerPort: 8080", "containerPort: 9090"}}},
	{"Fargate without awsvpc", []patch{{"taskdef.yaml", "networkMode: awsvpc", "networkMode: bridge"}}},
	{"Fargate cpu and memory not a combination", []patch{{"taskdef.yaml", "cpu: \"256\"\nmemory: \"512\"", "cpu: \"512\"\nmemory: \"99\""}}},
	{"Fargate cpu not a Fargate size", []patch{{"taskdef.yaml", "cpu: \"256\"", "cpu: \"300\""}}},
	{"Fargate memory in GB out of range", []patch{{"taskdef.yaml", "cpu: \"256\"\nmemory: \"512\"", "cpu: 1 vCPU\nmemory: 9 GB"}}},
	{"Fargate memory off its increment", []patch{{"taskdef.yaml", "cpu: \"256\"\nmemory: \"512\"", "cpu: \"8192\"\nmemory: \"18432\""}}},
	{"Fargate memory not a size", []patch{{"taskdef.yaml", "memory: \"512\"", "memory: lots"}}},
	{"Fargate without task memory", []patch{{"taskdef.yaml", "memory: \"512\"\n", ""}}},
	{"placement on Fargate", []patch{{"service.yaml", "launchType: FARGATE\n", "launchType: FARGATE\nplacementStrategy: [{type: spread, field: \"attribute:ecs.availability-zone\"}]\nplacementConstraints: [{type: distinctInstance}]\n"}, {"taskdef.yaml", "cpu:", "placementConstraints: [{type: memberOf, expression: \"attribute:ecs.instance-type =~ t3.*\"}]\ncpu:"}}},
	{"awsvpc without network configuration", []patch{{"service.yaml", "networkConfiguration:\n  awsvpcConfiguration:\n    subnets: [subnet-1]\n", ""}}},
	{"launch type and capacity providers", []patch{{"service.yaml", "launchType: FARGATE", "launchType: FARGATE\ncapacityProviderStrategy: [{capacityProvider: FARGATE_SPOT}]"}}},
	{"duplicate container and bad dependency", []patch{{"taskdef.yaml", "containerDefinitions:\n", "containerDefinitions:\n  - name: web\n    image: x/y:1\n    essential: false\n    dependsOn: [{containerName: db, condition: START}]\n"}}},
	{"lambda zip without runtime", []patch{{"function.yaml", "Runtime: python3.12\nHandler: app.handler\n", "MemorySize: 64\nArchitectures: [arm64, riscv]\n"}}},
	{"lambda image with handler", []patch{{"function.yaml", "Code:\n  S3Bucket: ${artifacts.code.bucket}\n  S3Key: ${artifacts.code.key}\n", "PackageType: Image\nCode: {}\n"}}},
	{"lambda runtime typo and timeout", []patch{{"function.yaml", "Runtime: python3.12\n", "Runtime: pyhton3.12\nTimeout: 901\n"}}},
	{"lambda role and handler", []patch{{"function.yaml", "arn:aws:iam::111111111111:role/fn", "fn-exec"}, {"function.yaml", "Handler: app.handler", "Handler: app"}}},
	{"lambda function name", []patch{{"function.yaml", "FunctionName: fn-${env.name}", "FunctionName: fn.${env.name}"}, {"function.yaml", "Role:", "Description: " + strings.Repeat("d", 257) + "\nRole:"}}},
	{"lambda SnapStart on an unsupported runtime", []patch{{"function.yaml", "Runtime: python3.12", "Runtime: nodejs22.x\nSnapStart: {ApplyOn: PublishedVersions}"}, {"function.yaml", "Handler: app.handler", "Handler: index.handler"}}},
	{"lambda SnapStart with large storage and provisioned concurrency", []patch{{"function.yaml", "Runtime: python3.12", "Runtime: python3.13\nSnapStart: {ApplyOn: PublishedVersions}\nEphemeralStorage: {Size: 1024}"}, {"jibe.yaml", "function: function.yaml\n", "function: function.yaml\n        provisionedConcurrency: 2\n"}}},
	{"server-set function field", []patch{{"function.yaml", "Role:", "CodeSha256: abc\nRole:"}}},
	{"manifest without kind", []patch{{"k8s/deploy.yaml", "kind: Deployment\n", ""}}},
	{"duplicate manifest", []patch{{"k8s/deploy.yaml", "apiVersion: apps/v1", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: site}\n---\napiVersion: apps/v1"}}},
	{"kustomization with a remote base", []patch{{"k8s/kustomization.yaml", "", "resources: [deploy.yaml, \"https://github.com/acme/base//deploy?ref=v1\"]\n"}}},
	{"kustomization that does not build", []patch{{"k8s/kustomization.yaml", "", "resources: [deploy.yaml, missing.yaml]\n"}}},
	{"kustomization with a bad placeholder", []patch{{"k8s/kustomization.yaml", "", "resources: [deploy.yaml]\nnamespace: ${vars.namespace}\n"}}},
	{"blue/green without Service", []patch{{"jibe.yaml", "        canary:\n          steps:\n            - setWeight: 10\n            - pause: {duration: 1m}\n            - setWeight: 50\n", "        blueGreen: {}\n"}, {"jibe.yaml", "targets: [web, site, fn]", "targets: [site]"}}},
	{"invalid YAML", []patch{{"taskdef.yaml", "family: web\n", "family: web\n  cpu: : 1\n"}}},
	{"bad indentation at end of file", []patch{{"function.yaml", "  S3Key: ${artifacts.code.key}\n", "  S3Key: ${artifacts.code.key}\n Timeout: 3\n"}}},
	{"tab indentation", []patch{{"service.yaml", "    subnets: [subnet-1]", "\tsubnets: [subnet-1]"}}},
	{"unclosed flow sequence in a manifest", []patch{{"k8s/deploy.yaml", "        - name: site\n", "        - name: site\n          args: [a, b\n"}}},
	{"two documents", []patch{{"service.yaml", "serviceName: web\n", "serviceName: web\n---\n"}}},
	{"flow sequence with unquoted placeholder", []patch{{"service.yaml", "subnets: [subnet-1]", "subnets: [${vars.cluster}]"}}},
	{"update policy on an image outside ECR", []patch{{"jibe.yaml", "image: registry.example.com/shop/web:1.0.0\n", "image: registry.example.com/shop/web:1.0.0\n      update: {semver: ^1.0}\n"}}},
	{"update policy with a bad semver range", []patch{{"jibe.yaml", "image: registry.example.com/shop/web:1.0.0\n", "image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0\n      update: {semver: '>=1.x.y'}\n"}}},
	{"update policy with a bad tag pattern", []patch{{"jibe.yaml", "image: registry.example.com/shop/web:1.0.0\n", "image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/web:main-1\n      update:\n        tag: {pattern: 'main-(?P<n>\\d+', sortBy: numerical}\n"}}},
	{"update policy with two named captures and a bad sort", []patch{{"jibe.yaml", "image: registry.example.com/shop/web:1.0.0\n", "image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/web:main-1\n      update:\n        tag: {pattern: '(?P<a>\\w+)-(?P<b>\\d+)', sortBy: newest}\n"}}},
	{"update policy digest of another tag", []patch{{"jibe.yaml", "image: registry.example.com/shop/web:1.0.0\n", "image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0\n      update: {digest: stable}\n"}}},
	{"update policy not fitting the artifact", []patch{{"jibe.yaml", "s3: {bucket: artifacts, key: fn.zip}\n", "s3: {bucket: artifacts, key: fn.zip}\n      update: {semver: ^1}\n"}, {"jibe.yaml", "ami: ami-0123456789abcdef0\n", "ami: ami-0123456789abcdef0\n      update: {latestVersion: true}\n"}}},
	{"update policy latestVersion without a version", []patch{{"jibe.yaml", "s3: {bucket: artifacts, key: fn.zip}\n", "s3: {bucket: artifacts, key: fn.zip}\n      update: {latestVersion: true}\n"}}},
	{"update policy with two kinds, AMI without a name", []patch{{"jibe.yaml", "image: registry.example.com/shop/web:1.0.0\n", "image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0\n      update: {semver: ^1, digest: stable}\n"}, {"jibe.yaml", "ami: ami-0123456789abcdef0\n", "ami: ami-0123456789abcdef0\n      update: {ami: {name: '*', owner: amazon}}\n"}}},
}

func TestValidationRules(t *testing.T) {
	var golden strings.Builder
	for _, tc := range ruleCases {
		fsys := fstest.MapFS{}
		for name, content := range baseFiles {
			fsys[name] = &fstest.MapFile{Data: []byte(content)}
		}
		for _, p := range tc.patches {
			f := fsys[p.file]
			if f == nil {
				f = &fstest.MapFile{}
				fsys[p.file] = f
			}
			before := string(f.Data)
			if p.old != "" && !strings.Contains(before, p.old) {
				t.Fatalf("%s: patch target %q not in %s", tc.name, p.old, p.file)
			}
			if p.old == "" {
				f.Data = []byte(before + p.new)
			} else {
				f.Data = []byte(strings.Replace(before, p.old, p.new, 1))
			}
		}
		_, err := spec.LoadFS(fsys, "app", builtin)
		if err == nil {
			t.Errorf("%s: want errors, got none", tc.name)
		}
		fmt.Fprintf(&golden, "== %s\n%v\n", tc.name, err)
	}
	checkGolden(t, "testdata/rules.golden", golden.String())
}

func TestBaseSpecIsValid(t *testing.T) {
	fsys := fstest.MapFS{}
	for name, content := range baseFiles {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	if _, err := spec.LoadFS(fsys, "app", builtin); err != nil {
		t.Fatalf("the base of the rule cases must be valid:\n%v", err)
	}
}

// Every problem of a file is reported at once, with positions.
func TestAllErrorsReportedAtOnce(t *testing.T) {
	_, err := spec.Load("testdata/invalid/many-errors", builtin)
	list := strictyaml.AsList(err)
	if len(list) < 5 {
		t.Fatalf("want every problem at once, got %d:\n%v", len(list), err)
	}
	for _, e := range list {
		if e.Line == 0 || e.Field == "" {
			t.Errorf("problem without position or field: %v", e)
		}
	}
}

// Each folder of testdata/invalid has the errors it must produce in
// errors.golden; each folder of testdata/valid must load.
func TestTestdata(t *testing.T) {
	valid, _ := os.ReadDir("testdata/valid")
	for _, d := range valid {
		if _, err := spec.Load("testdata/valid/"+d.Name(), builtin); err != nil {
			t.Errorf("testdata/valid/%s:\n%v", d.Name(), err)
		}
	}
	invalid, _ := os.ReadDir("testdata/invalid")
	for _, d := range invalid {
		dir := "testdata/invalid/" + d.Name()
		_, err := spec.Load(dir, builtin)
		if err == nil {
			t.Errorf("%s: want errors", dir)
			continue
		}
		checkGolden(t, dir+"/errors.golden", err.Error()+"\n")
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./spec -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test ./spec -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
