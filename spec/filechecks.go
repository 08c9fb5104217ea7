package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// checkECS validates a rendered task definition and service together.
func (l *loader) checkECS(tdDoc, svcDoc *strictyaml.Document, t *ECSTarget, td *ECSTaskDefinition, svc *ECSService) {
	add := func(doc *strictyaml.Document, field, format string, args ...any) {
		l.errs = append(l.errs, doc.Errorf(field, format, args...))
	}
	containers := l.checkContainers(tdDoc, td)
	fargate := svc.LaunchType == "FARGATE" || usesFargateProvider(svc) || slices.Contains(td.RequiresCompatibilities, "FARGATE")
	if fargate && td.NetworkMode != "awsvpc" {
		add(tdDoc, "networkMode", "Fargate tasks need networkMode awsvpc (got %q)", td.NetworkMode)
	}
	if fargate {
		l.checkFargate(tdDoc, svcDoc, td, svc)
	}
	if td.NetworkMode == "awsvpc" && svc.NetworkConfiguration == nil {
		add(svcDoc, "networkConfiguration", "the task definition uses networkMode awsvpc, so the service needs networkConfiguration.awsvpcConfiguration with subnets")
	}
	if svc.LaunchType != "" && len(svc.CapacityProviderStrategy) > 0 {
		add(svcDoc, "launchType", "set launchType or capacityProviderStrategy, not both")
	}
	if t.AutoScaling != nil && svc.DesiredCount != nil {
		add(svcDoc, "desiredCount", "autoScaling manages the task count; remove desiredCount so that deploys never fight the autoscaler")
	}
	for i, lb := range svc.LoadBalancers {
		field := strictyaml.JoinIndex("loadBalancers", i)
		c, ok := containers[lb.ContainerName]
		if !ok {
			add(svcDoc, field+".containerName", "container %q is not in task definition family %s%s", lb.ContainerName, td.Family, known(containers))
			continue
		}
		if !exposes(c, lb.ContainerPort) {
			add(svcDoc, field+".containerPort", "container %q has no portMappings entry for port %d", lb.ContainerName, lb.ContainerPort)
		}
	}
}

func usesFargateProvider(svc *ECSService) bool {
	for _, c := range svc.CapacityProviderStrategy {
		if strings.HasPrefix(c.CapacityProvider, "FARGATE") {
			return true
		}
	}
	return false
}

func exposes(c *ContainerDefinition, port int32) bool {
	for _, pm := range c.PortMappings {
		if pm.ContainerPort != nil && *pm.ContainerPort == port {
			return true
		}
	}
	return false
}

// checkContainers validates the containers of a task definition and
// returns them by name.
func (l *loader) checkContainers(doc *strictyaml.Document, td *ECSTaskDefinition) map[string]*ContainerDefinition {
	byName := map[string]*ContainerDefinition{}
	essential := false
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		field := strictyaml.JoinIndex("containerDefinitions", i)
		if _, dup := byName[c.Name]; dup {
			l.errs = append(l.errs, doc.Errorf(field+".name", "container name %q is used twice in the task definition", c.Name))
		}
		byName[c.Name] = c
		if !imageRE.MatchString(c.Image) {
			l.errs = append(l.errs, doc.Errorf(field+".image", "%q is not a valid image reference", c.Image))
		}
		essential = essential || c.Essential == nil || *c.Essential
	}
	if !essential && len(td.ContainerDefinitions) > 0 {
		l.errs = append(l.errs, doc.Errorf("containerDefinitions", "at least one container must be essential"))
	}
	for i := range td.ContainerDefinitions {
		for j, dep := range td.ContainerDefinitions[i].DependsOn {
			if _, ok := byName[dep.ContainerName]; !ok {
				field := fmt.Sprintf("containerDefinitions[%d].dependsOn[%d].containerName", i, j)
				l.errs = append(l.errs, doc.Errorf(field, "container %q is not in this task definition", dep.ContainerName))
			}
		}
	}
	return byName
}

// checkFunction validates a rendered Lambda function file.
func (l *loader) checkFunction(doc *strictyaml.Document, fn *LambdaFunction) {
	add := func(field, format string, args ...any) {
		l.errs = append(l.errs, doc.Errorf(field, format, args...))
	}
	if fn.PackageType == "Image" {
		if fn.Code.ImageUri == "" {
			add("Code.ImageUri", "an Image function needs Code.ImageUri, usually ${artifacts.<name>}")
		}
		if fn.Runtime != "" || fn.Handler != "" {
			add("Runtime", "an Image function takes no Runtime or Handler; set ImageConfig instead")
		}
	} else {
		if (fn.Code.S3Bucket == "" || fn.Code.S3Key == "") && fn.Code.Folder == "" {
			add("Code", "a Zip function needs Code.S3Bucket and Code.S3Key, usually ${artifacts.<name>.bucket} and ${artifacts.<name>.key}, or Code.Folder, a folder of the application to zip")
		}
		if fn.Runtime == "" || fn.Handler == "" {
			add("Runtime", "a Zip function needs Runtime and Handler")
		}
	}
	for i, a := range fn.Architectures {
		if a != "x86_64" && a != "arm64" {
			add(strictyaml.JoinIndex("Architectures", i), "%q is not an architecture; use x86_64 or arm64", a)
		}
	}
	if len(fn.Architectures) > 1 {
		add("Architectures", "a function has one architecture")
	}
	l.checkLambda(doc, fn)
}

// checkManifests validates the Kubernetes objects of a target.
func (l *loader) checkManifests(doc *strictyaml.Document, field string, t *KubernetesTarget, env *Environment, ms []Manifest) {
	seen := map[string]Manifest{}
	for _, m := range ms {
		key := manifestKey(m.Object)
		if prev, dup := seen[key]; dup {
			l.errs = append(l.errs, &strictyaml.Error{File: m.File, Pos: strictyaml.Pos{Line: m.Line, Column: 1},
				Message: fmt.Sprintf("%s is defined twice (also at %s:%d)", key, prev.File, prev.Line)})
		}
		seen[key] = m
	}
	if len(ms) == 0 {
		l.errs = append(l.errs, doc.Errorf(field+".manifests", "folder %s holds no manifests (*.yaml, *.yml, *.json)", t.Manifests))
	}
	kind := env.Strategy.Kind()
	if kind == StrategyRolling || t.Workload != "" && !workloadRE.MatchString(t.Workload) {
		return
	}
	if _, err := pickObject(ms, "Deployment", t.Workload); err != nil {
		l.errs = append(l.errs, doc.Errorf(field+".workload", "%s needs a Deployment to clone: %v", kind, err))
	}
	if kind == StrategyBlueGreen {
		if _, err := pickObject(ms, "Service", t.Service); err != nil {
			l.errs = append(l.errs, doc.Errorf(field+".service", "blueGreen needs a Service to switch: %v", err))
		}
	}
}

func manifestKey(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	return fmt.Sprintf("%v %v/%s (namespace %q)", obj["apiVersion"], obj["kind"], manifestName(obj), ns)
}

// pickObject finds the object named by ref (Kind/name or name), or the
// only object of kind when ref is empty.
func pickObject(ms []Manifest, kind, ref string) (*Manifest, error) {
	name := ref
	if k, n, ok := strings.Cut(ref, "/"); ok {
		kind, name = k, n
	}
	var found []*Manifest
	for i := range ms {
		if ms[i].Object["kind"] == kind && (name == "" || manifestName(ms[i].Object) == name) {
			found = append(found, &ms[i])
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && name != "":
		return nil, fmt.Errorf("no %s named %q in the manifests", kind, name)
	case len(found) == 0:
		return nil, fmt.Errorf("no %s in the manifests", kind)
	}
	return nil, fmt.Errorf("%d objects of kind %s; name the one to use", len(found), kind)
}
