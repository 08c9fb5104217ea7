package ecs

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// ref is one reference a deployment's files make to something outside
// them: where it is (the spec path) and what it names (an ARN, an id, a
// parameter name, an image).
type ref struct {
	field string
	id    string
}

// imageRef is a container image hosted in ECR: its repository and tag or
// digest.
type imageRef struct {
	ref
	repo, tag, digest string
}

// refs are the references of a deployment that the platform can check:
// those in the deployment's own account and region. References elsewhere
// (a role of another account, an image of another registry) are left out.
type refs struct {
	roles        []ref
	targetGroups []ref
	listeners    []ref
	rules        []ref
	subnets      []ref
	groups       []ref
	images       []imageRef
	secrets      []ref
	parameters   []ref
}

// scope is the account and region a platform sees.
type scope struct {
	account, region string
}

// collectRefs lists the references of d that sc can see. It is pure: the
// lookups happen in Precheck.
func collectRefs(d *reconcile.Deployment, sc scope) *refs {
	rs := &refs{}
	rs.addTaskDefinition(d.Target.TaskDefinition, sc)
	rs.addService(d.Target.Service, sc)
	if tr := d.Target.ECS.Traffic; tr != nil {
		rs.addTraffic(tr, sc)
	}
	return rs
}

func (rs *refs) addTaskDefinition(td *spec.ECSTaskDefinition, sc scope) {
	for _, r := range []ref{{"taskDefinition.executionRoleArn", td.ExecutionRoleArn}, {"taskDefinition.taskRoleArn", td.TaskRoleArn}} {
		if a, ok := parseARN(r.id); ok && a.service == "iam" && a.account == sc.account && strings.HasPrefix(a.resource, "role/") {
			rs.roles = append(rs.roles, r)
		}
	}
	for _, c := range td.ContainerDefinitions {
		rs.addContainer(c, sc)
	}
}

func (rs *refs) addContainer(c spec.ContainerDefinition, sc scope) {
	at := "taskDefinition.containerDefinitions[" + c.Name + "]"
	if img, ok := parseECRImage(c.Image, sc); ok {
		img.field = at + ".image"
		rs.images = append(rs.images, img)
	}
	for _, s := range c.Secrets {
		rs.addSecret(at+".secrets["+s.Name+"]", s.ValueFrom, sc, false)
	}
	if rc := c.RepositoryCredentials; rc != nil && rc.CredentialsParameter != "" {
		rs.addSecret(at+".repositoryCredentials.credentialsParameter", rc.CredentialsParameter, sc, true)
	}
}

// addSecret adds a secret reference in ECS syntax: a Secrets Manager ARN
// (with an optional ":json-key:version-stage:version-id" suffix, which
// is dropped), an SSM parameter ARN, or an SSM parameter name (a Secrets
// Manager name when secretByName, as repository credentials are).
func (rs *refs) addSecret(field, valueFrom string, sc scope, secretByName bool) {
	a, ok := parseARN(valueFrom)
	switch {
	case !ok && secretByName:
		rs.secrets = append(rs.secrets, ref{field: field, id: valueFrom})
	case !ok:
		rs.parameters = append(rs.parameters, ref{field: field, id: valueFrom})
	case a.account != sc.account || a.region != sc.region:
	case a.service == "secretsmanager":
		parts := strings.SplitN(valueFrom, ":", 8)
		rs.secrets = append(rs.secrets, ref{field: field, id: strings.Join(parts[:min(len(parts), 7)], ":")})
	case a.service == "ssm":
		rs.parameters = append(rs.parameters, ref{field: field, id: valueFrom})
	}
}

func (rs *refs) addService(svc *spec.ECSService, sc scope) {
	for i, lb := range svc.LoadBalancers {
		rs.addELB(&rs.targetGroups, "service.loadBalancers["+strconv.Itoa(i)+"].targetGroupArn", lb.TargetGroupArn, sc)
	}
	nc := svc.NetworkConfiguration
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return
	}
	const at = "service.networkConfiguration.awsvpcConfiguration."
	for i, id := range nc.AwsvpcConfiguration.Subnets {
		rs.subnets = append(rs.subnets, ref{field: at + "subnets[" + strconv.Itoa(i) + "]", id: id})
	}
	for i, id := range nc.AwsvpcConfiguration.SecurityGroups {
		rs.groups = append(rs.groups, ref{field: at + "securityGroups[" + strconv.Itoa(i) + "]", id: id})
	}
}

func (rs *refs) addTraffic(tr *spec.ECSTraffic, sc scope) {
	rs.addELB(&rs.listeners, "traffic.listenerArn", tr.ListenerArn, sc)
	rs.addELB(&rs.rules, "traffic.listenerRuleArn", tr.ListenerRuleArn, sc)
	rs.addELB(&rs.targetGroups, "traffic.stableTargetGroupArn", tr.StableTargetGroupArn, sc)
	rs.addELB(&rs.targetGroups, "traffic.canaryTargetGroupArn", tr.CanaryTargetGroupArn, sc)
}

// addELB adds an Elastic Load Balancing ARN of sc to list.
func (rs *refs) addELB(list *[]ref, field, arn string, sc scope) {
	if a, ok := parseARN(arn); ok && a.account == sc.account && a.region == sc.region {
		*list = append(*list, ref{field: field, id: arn})
	}
}

// arn is a parsed ARN: arn:partition:service:region:account:resource.
type arn struct {
	service, region, account, resource string
}

func parseARN(s string) (arn, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return arn{}, false
	}
	return arn{service: parts[2], region: parts[3], account: parts[4], resource: parts[5]}, true
}

// roleName returns the name of a role ARN: the last segment of its path
// ("arn:aws:iam::1:role/service/exec" names "exec").
func roleName(roleARN string) string {
	return roleARN[strings.LastIndex(roleARN, "/")+1:]
}

// ecrImage matches image references of ECR private registries:
// ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/REPOSITORY[:TAG|@DIGEST].
var ecrImage = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`)

// parseECRImage parses an image of sc's ECR registry; ok is false for
// other registries. An image without tag or digest is "latest".
func parseECRImage(image string, sc scope) (imageRef, bool) {
	m := ecrImage.FindStringSubmatch(image)
	if m == nil || m[1] != sc.account || m[2] != sc.region {
		return imageRef{}, false
	}
	img := imageRef{ref: ref{id: image}, repo: m[3], tag: m[4], digest: m[5]}
	if img.tag == "" && img.digest == "" {
		img.tag = "latest"
	}
	return img, true
}

// ids returns the distinct ids of rs, in order.
func ids(rs []ref) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.id] {
			seen[r.id] = true
			out = append(out, r.id)
		}
	}
	return out
}
