package ecs

import (
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/providers/aws/precheck"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// collectRefs lists the references of d that sc can see. It is pure: the
// lookups happen in precheck.Check.
func collectRefs(d *reconcile.Deployment, sc precheck.Scope) *precheck.Refs {
	rs := &precheck.Refs{}
	addTaskDefinition(rs, d.Target.TaskDefinition, sc)
	addService(rs, d.Target.Service, sc)
	if tr := d.Target.ECS.Traffic; tr != nil {
		addTraffic(rs, tr, sc)
	}
	return rs
}

func addTaskDefinition(rs *precheck.Refs, td *spec.ECSTaskDefinition, sc precheck.Scope) {
	for _, r := range []precheck.Ref{{Field: "taskDefinition.executionRoleArn", ID: td.ExecutionRoleArn}, {Field: "taskDefinition.taskRoleArn", ID: td.TaskRoleArn}} {
		if a, ok := precheck.ParseARN(r.ID); ok && a.Service == "iam" && a.Account == sc.Account && strings.HasPrefix(a.Resource, "role/") {
			rs.Roles = append(rs.Roles, r)
		}
	}
	for _, c := range td.ContainerDefinitions {
		addContainer(rs, c, sc)
	}
}

func addContainer(rs *precheck.Refs, c spec.ContainerDefinition, sc precheck.Scope) {
	at := "taskDefinition.containerDefinitions[" + c.Name + "]"
	if img, ok := precheck.ParseECRImage(c.Image, sc); ok {
		img.Field = at + ".image"
		rs.Images = append(rs.Images, img)
	}
	for _, s := range c.Secrets {
		addSecret(rs, at+".secrets["+s.Name+"]", s.ValueFrom, sc, false)
	}
	if rc := c.RepositoryCredentials; rc != nil && rc.CredentialsParameter != "" {
		addSecret(rs, at+".repositoryCredentials.credentialsParameter", rc.CredentialsParameter, sc, true)
	}
}

// addSecret adds a secret reference in ECS syntax: a Secrets Manager ARN
// (with an optional ":json-key:version-stage:version-id" suffix, which
// is dropped), an SSM parameter ARN, or an SSM parameter name (a Secrets
// Manager name when secretByName, as repository credentials are).
func addSecret(rs *precheck.Refs, field, valueFrom string, sc precheck.Scope, secretByName bool) {
	a, ok := precheck.ParseARN(valueFrom)
	switch {
	case !ok && secretByName:
		rs.Secrets = append(rs.Secrets, precheck.Ref{Field: field, ID: valueFrom})
	case !ok:
		rs.Parameters = append(rs.Parameters, precheck.Ref{Field: field, ID: valueFrom})
	case a.Account != sc.Account || a.Region != sc.Region:
	case a.Service == "secretsmanager":
		parts := strings.SplitN(valueFrom, ":", 8)
		rs.Secrets = append(rs.Secrets, precheck.Ref{Field: field, ID: strings.Join(parts[:min(len(parts), 7)], ":")})
	case a.Service == "ssm":
		rs.Parameters = append(rs.Parameters, precheck.Ref{Field: field, ID: valueFrom})
	}
}

func addService(rs *precheck.Refs, svc *spec.ECSService, sc precheck.Scope) {
	for i, lb := range svc.LoadBalancers {
		sc.AddELB(&rs.TargetGroups, "service.loadBalancers["+strconv.Itoa(i)+"].targetGroupArn", lb.TargetGroupArn)
	}
	nc := svc.NetworkConfiguration
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return
	}
	const at = "service.networkConfiguration.awsvpcConfiguration."
	for i, id := range nc.AwsvpcConfiguration.Subnets {
		rs.Subnets = append(rs.Subnets, precheck.Ref{Field: at + "subnets[" + strconv.Itoa(i) + "]", ID: id})
	}
	for i, id := range nc.AwsvpcConfiguration.SecurityGroups {
		rs.Groups = append(rs.Groups, precheck.Ref{Field: at + "securityGroups[" + strconv.Itoa(i) + "]", ID: id})
	}
}

func addTraffic(rs *precheck.Refs, tr *spec.ALBTraffic, sc precheck.Scope) {
	sc.AddELB(&rs.Listeners, "traffic.listenerArn", tr.ListenerArn)
	sc.AddELB(&rs.Rules, "traffic.listenerRuleArn", tr.ListenerRuleArn)
	sc.AddELB(&rs.TargetGroups, "traffic.stableTargetGroupArn", tr.StableTargetGroupArn)
	sc.AddELB(&rs.TargetGroups, "traffic.canaryTargetGroupArn", tr.CanaryTargetGroupArn)
}
