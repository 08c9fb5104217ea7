package ecs

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/artifact"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// maxDescribeTasks is DescribeTasks' batch limit.
const maxDescribeTasks = 100

// task is one ECS task started by a service deployment.
type task struct {
	t        types.Task
	cl       *cluster
	svc      *service    // nil for standalone tasks (RunTask)
	dep      *deployment // nil for standalone tasks
	ip       string
	behavior artifact.Behavior
	since    time.Time // when the current lastStatus began
	targets  []target  // registrations in the service's target groups
	entries  []string  // Cloud Map services the task is registered in
	failed   bool      // counted against the deployment
	// unhealthyAt is when ECS first saw one of the task's targets
	// unhealthy.
	unhealthyAt time.Time
	// instance is the container instance the task was placed on (nil on
	// Fargate), and reserved what it holds there until it is STOPPED.
	instance *types.ContainerInstance
	reserved reservation
}

// target is one registration of a task in a target group.
type target struct {
	group string
	id    string
	port  int32
}

func (t *task) status() string { return aws.ToString(t.t.LastStatus) }

// live reports whether the task is wanted running (not being stopped).
func (t *task) live() bool { return aws.ToString(t.t.DesiredStatus) == "RUNNING" }

// healthy reports whether the task is RUNNING and healthy in every target
// group it is registered in.
func (t *task) healthy(s *Service, now time.Time) bool {
	if t.status() != "RUNNING" {
		return false
	}
	scope := t.cl.scope
	for _, tg := range t.targets {
		if s.cfg.Targets.TargetState(scope, tg.group, tg.id, tg.port, now) != TargetHealthy {
			return false
		}
	}
	return true
}

func (t *task) setStatus(status string, now time.Time) {
	t.t.LastStatus = aws.String(status)
	t.since = now
	t.t.Version++
}

// launchTask creates a PROVISIONING task of deployment d.
func (s *Service) launchTask(r *region, svc *service, d *deployment, ci *types.ContainerInstance, now time.Time) *task {
	cl := svc.cluster
	td, _ := r.findTaskDef(aws.ToString(d.d.TaskDefinition))
	arn := r.arn("task/" + aws.ToString(cl.c.ClusterName) + "/" + s.newID())
	t := &task{cl: cl, svc: svc, dep: d, ip: r.allocateIP(), since: now}
	t.t = types.Task{
		TaskArn:           aws.String(arn),
		ClusterArn:        cl.c.ClusterArn,
		TaskDefinitionArn: d.d.TaskDefinition,
		DesiredStatus:     aws.String("RUNNING"),
		LastStatus:        aws.String("PROVISIONING"),
		CreatedAt:         ptrTime(now),
		StartedBy:         d.d.Id,
		Group:             aws.String("service:" + aws.ToString(svc.s.ServiceName)),
		LaunchType:        d.d.LaunchType,
		PlatformVersion:   d.d.PlatformVersion,
		AvailabilityZone:  aws.String(r.scope.Region + "a"),
		Version:           1,
		HealthStatus:      types.HealthStatusUnknown,
		Attachments:       eniAttachment(d, t.ip),
	}
	if td != nil {
		t.t.Cpu, t.t.Memory = td.Cpu, td.Memory
		t.t.Containers = containers(td, arn, t.ip)
		t.behavior = s.imagesBehavior(td)
	}
	if ci != nil && td != nil {
		t.instance, t.reserved = ci, reservationOf(td)
		t.t.ContainerInstanceArn = ci.ContainerInstanceArn
	}
	cl.tasks[arn] = t
	cl.taskList = append(cl.taskList, arn)
	return t
}

// imagesBehavior combines the behaviour of a task's images: broken if any
// is, failing requests at the highest error rate.
func (s *Service) imagesBehavior(td *types.TaskDefinition) artifact.Behavior {
	var b artifact.Behavior
	for _, cd := range td.ContainerDefinitions {
		ib := s.cfg.Artifacts.Image(aws.ToString(cd.Image))
		b.Broken = b.Broken || ib.Broken
		b.ErrorRate = max(b.ErrorRate, ib.ErrorRate)
	}
	return b
}

func eniAttachment(d *deployment, ip string) []types.Attachment {
	if d.d.NetworkConfiguration == nil {
		return nil
	}
	return []types.Attachment{{
		Type: aws.String("ElasticNetworkInterface"), Status: aws.String("ATTACHED"),
		Details: []types.KeyValuePair{{Name: aws.String("privateIPv4Address"), Value: aws.String(ip)}},
	}}
}

func containers(td *types.TaskDefinition, taskArn, ip string) []types.Container {
	var out []types.Container
	for _, cd := range td.ContainerDefinitions {
		out = append(out, types.Container{
			Name: cd.Name, Image: cd.Image, TaskArn: aws.String(taskArn),
			LastStatus: aws.String("PENDING"), HealthStatus: types.HealthStatusUnknown,
			NetworkInterfaces: []types.NetworkInterface{{PrivateIpv4Address: aws.String(ip)}},
		})
	}
	return out
}

// stepTasks advances the lifecycle of every task of a cluster.
func (s *Service) stepTasks(r *region, cl *cluster, now time.Time) {
	kept := cl.taskList[:0]
	for _, arn := range cl.taskList {
		t := cl.tasks[arn]
		s.stepTask(t, now)
		if t.status() == "STOPPED" && now.Sub(aws.ToTime(t.t.StoppedAt)) > stoppedTTL {
			delete(cl.tasks, arn)
			continue
		}
		kept = append(kept, arn)
	}
	cl.taskList = kept
}

// stepTask moves one task through PROVISIONING → PENDING → RUNNING and,
// once asked to stop, DEACTIVATING → STOPPING → STOPPED.
func (s *Service) stepTask(t *task, now time.Time) {
	elapsed := now.Sub(t.since)
	switch t.status() {
	case "PROVISIONING", "PENDING":
		s.stepStarting(t, now, elapsed)
	case "RUNNING":
		s.stepRunning(t, now)
	case "DEACTIVATING":
		if s.targetsGone(t, now) {
			t.setStatus("STOPPING", now)
			t.t.StoppingAt = ptrTime(now)
		}
	case "STOPPING":
		if elapsed >= stopTime {
			s.markStopped(t, now)
		}
	}
}

func (s *Service) stepStarting(t *task, now time.Time, elapsed time.Duration) {
	if !t.live() {
		s.markStopped(t, now)
		return
	}
	if t.status() == "PROVISIONING" {
		if elapsed >= provisionTime {
			t.setStatus("PENDING", now)
		}
		return
	}
	if elapsed < startTime {
		return
	}
	if reason := s.pullError(t.cl.scope, &t.t); reason != "" {
		s.failToStart(t, reason, now)
		return
	}
	if t.behavior.Broken && len(t.lbs()) == 0 && t.svc != nil {
		t.t.StopCode = types.TaskStopCodeEssentialContainerExited
		s.failTask(t, "Essential container in task exited", now)
		s.markStopped(t, now)
		return
	}
	s.startTask(t, now)
}

// failToStart stops a PENDING task whose image cannot be pulled; it
// counts toward the deployment circuit breaker.
func (s *Service) failToStart(t *task, reason string, now time.Time) {
	t.t.StopCode = types.TaskStopCodeTaskFailedToStart
	for i := range t.t.Containers {
		t.t.Containers[i].Reason = aws.String(reason)
	}
	s.failTask(t, reason, now)
	s.markStopped(t, now)
}

// startTask makes the task RUNNING and registers it in its target groups.
func (s *Service) startTask(t *task, now time.Time) {
	t.setStatus("RUNNING", now)
	t.t.StartedAt = ptrTime(now)
	t.t.Connectivity = types.ConnectivityConnected
	t.t.ConnectivityAt = ptrTime(now)
	t.t.PullStartedAt, t.t.PullStoppedAt = ptrTime(now.Add(-startTime)), ptrTime(now)
	for i := range t.t.Containers {
		t.t.Containers[i].LastStatus = aws.String("RUNNING")
	}
	if !t.behavior.Broken {
		t.t.HealthStatus = types.HealthStatusHealthy
	}
	s.registerInstances(t, now)
	scope := t.cl.scope
	for _, lb := range t.lbs() {
		if lb.TargetGroupArn == nil {
			continue
		}
		typ, ok := s.cfg.Targets.TargetGroupType(scope, *lb.TargetGroupArn)
		if !ok {
			continue
		}
		tg := target{group: *lb.TargetGroupArn, id: t.ip, port: aws.ToInt32(lb.ContainerPort)}
		if typ == "instance" {
			tg.id = "i-" + nameFromArn(aws.ToString(t.t.TaskArn))[:17]
		}
		if err := s.cfg.Targets.RegisterTarget(scope, tg.group, tg.id, tg.port, t.behavior, now); err == nil {
			t.targets = append(t.targets, tg)
		}
	}
}

// stepRunning stops tasks that failed their ELB health checks after the
// service's grace period.
func (s *Service) stepRunning(t *task, now time.Time) {
	if !t.live() {
		s.beginStop(t, now)
		return
	}
	if t.svc == nil {
		s.stepStandalone(t, now)
		return
	}
	grace := time.Duration(aws.ToInt32(t.svc.s.HealthCheckGracePeriodSeconds)) * time.Second
	scope := t.cl.scope
	for _, tg := range t.targets {
		if s.cfg.Targets.TargetState(scope, tg.group, tg.id, tg.port, now) != TargetUnhealthy {
			continue
		}
		if t.unhealthyAt.IsZero() {
			t.unhealthyAt = now
		}
		if now.Sub(aws.ToTime(t.t.StartedAt)) < grace || now.Sub(t.unhealthyAt) < s.cfg.Targets.HealthCheckInterval(scope, tg.group) {
			return
		}
		t.t.StopCode = types.TaskStopCodeServiceSchedulerInitiated
		s.failTask(t, "Task failed ELB health checks in (target-group "+tg.group+")", now)
		s.beginStop(t, now)
		return
	}
}

// failTask counts the task against its deployment's circuit breaker.
func (s *Service) failTask(t *task, reason string, now time.Time) {
	t.t.DesiredStatus = aws.String("STOPPED")
	t.t.StoppedReason = aws.String(reason)
	t.t.HealthStatus = types.HealthStatusUnhealthy
	if !t.failed && t.dep != nil {
		t.failed = true
		t.dep.d.FailedTasks++
		t.dep.d.UpdatedAt = ptrTime(now)
	}
}

// beginStop deregisters a running task from Cloud Map and its target
// groups.
func (s *Service) beginStop(t *task, now time.Time) {
	scope := t.cl.scope
	for _, arn := range t.entries {
		_ = s.cfg.Registry.DeregisterInstance(scope, arn, t.id(), now)
	}
	t.entries = nil
	for _, tg := range t.targets {
		_ = s.cfg.Targets.DeregisterTarget(scope, tg.group, tg.id, tg.port, now)
	}
	if len(t.targets) > 0 {
		t.setStatus("DEACTIVATING", now)
		return
	}
	t.setStatus("STOPPING", now)
	t.t.StoppingAt = ptrTime(now)
}

func (s *Service) targetsGone(t *task, now time.Time) bool {
	scope := t.cl.scope
	for _, tg := range t.targets {
		if s.cfg.Targets.TargetState(scope, tg.group, tg.id, tg.port, now) != TargetGone {
			return false
		}
	}
	return true
}

func (s *Service) markStopped(t *task, now time.Time) {
	t.setStatus("STOPPED", now)
	t.t.DesiredStatus = aws.String("STOPPED")
	t.t.StoppedAt = ptrTime(now)
	t.t.ExecutionStoppedAt = ptrTime(now)
	for i := range t.t.Containers {
		t.t.Containers[i].LastStatus = aws.String("STOPPED")
	}
}

// stopTaskAt asks a task to stop; the lifecycle does the rest.
func (s *Service) stopTaskAt(t *task, reason string, now time.Time) {
	if !t.live() {
		return
	}
	t.t.DesiredStatus = aws.String("STOPPED")
	if t.t.StoppedReason == nil {
		t.t.StoppedReason = aws.String(reason)
	}
	if t.t.StopCode == "" {
		t.t.StopCode = types.TaskStopCodeServiceSchedulerInitiated
	}
	s.stepTask(t, now)
}

func (s *Service) listTasks(c *protocol.Call) (any, error) {
	var in ecs.ListTasksInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := s.region(c.Scope()).findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.ServiceName != nil {
		if _, ok := cl.services[nameFromArn(*in.ServiceName)]; !ok {
			return nil, protocol.Errorf("ServiceNotFoundException", "Service not found.")
		}
	}
	var arns []string
	for _, arn := range cl.taskList {
		if taskMatches(cl.tasks[arn], &in) {
			arns = append(arns, arn)
		}
	}
	start, end, next, err := protocol.Page(len(arns), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTasksOutput{TaskArns: arns[start:end], NextToken: optString(next)}, nil
}

func taskMatches(t *task, in *ecs.ListTasksInput) bool {
	desired := string(in.DesiredStatus)
	if desired == "" {
		desired = "RUNNING"
	}
	if aws.ToString(t.t.DesiredStatus) != desired {
		return false
	}
	if in.ServiceName != nil && (t.svc == nil || aws.ToString(t.svc.s.ServiceName) != nameFromArn(*in.ServiceName)) {
		return false
	}
	if in.StartedBy != nil && aws.ToString(t.t.StartedBy) != *in.StartedBy {
		return false
	}
	if in.Family != nil {
		td := nameFromArn(aws.ToString(t.t.TaskDefinitionArn))
		if fam, _, _ := strings.Cut(td, ":"); fam != *in.Family {
			return false
		}
	}
	return true
}

func (s *Service) describeTasks(c *protocol.Call) (any, error) {
	var in ecs.DescribeTasksInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > maxDescribeTasks {
		return nil, invalidParameter("tasks must contain between 1 and %d items.", maxDescribeTasks)
	}
	r := s.region(c.Scope())
	cl, err := r.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeTasksOutput{}
	for _, ref := range in.Tasks {
		t := cl.findTask(ref)
		if t == nil {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, t.t)
	}
	return out, nil
}

func (cl *cluster) findTask(ref string) *task {
	if t, ok := cl.tasks[ref]; ok {
		return t
	}
	for arn, t := range cl.tasks {
		if nameFromArn(arn) == ref {
			return t
		}
	}
	return nil
}

func (s *Service) stopTask(c *protocol.Call) (any, error) {
	var in ecs.StopTaskInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := s.region(c.Scope()).findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	t := cl.findTask(aws.ToString(in.Task))
	if t == nil {
		return nil, invalidParameter("The referenced task was not found.")
	}
	t.t.StopCode = types.TaskStopCodeUserInitiated
	s.stopTaskAt(t, aws.ToString(in.Reason), c.Now)
	return &ecs.StopTaskOutput{Task: &t.t}, nil
}

// lbs returns the load balancers the task registers in.
func (t *task) lbs() []types.LoadBalancer {
	if t.dep == nil {
		return nil
	}
	return t.dep.lbs
}

// id returns the task id, the last element of its ARN.
func (t *task) id() string { return nameFromArn(aws.ToString(t.t.TaskArn)) }

// registerInstances registers a started task in the Cloud Map services of
// its service registries, with the attributes ECS sets.
func (s *Service) registerInstances(t *task, now time.Time) {
	if s.cfg.Registry == nil {
		return
	}
	td := nameFromArn(aws.ToString(t.t.TaskDefinitionArn))
	family, _, _ := strings.Cut(td, ":")
	if t.dep == nil {
		return
	}
	for _, reg := range t.dep.registries {
		arn := aws.ToString(reg.RegistryArn)
		attrs := map[string]string{
			"AWS_INSTANCE_IPV4": t.ip, "AVAILABILITY_ZONE": aws.ToString(t.t.AvailabilityZone), "REGION": t.cl.scope.Region,
			"ECS_CLUSTER_NAME": aws.ToString(t.cl.c.ClusterName), "ECS_SERVICE_NAME": aws.ToString(t.svc.s.ServiceName),
			"ECS_TASK_DEFINITION_FAMILY": family, "AWS_INIT_HEALTH_STATUS": "HEALTHY",
		}
		if p := aws.ToInt32(reg.Port); p != 0 {
			attrs["AWS_INSTANCE_PORT"] = fmt.Sprint(p)
		} else if p := aws.ToInt32(reg.ContainerPort); p != 0 {
			attrs["AWS_INSTANCE_PORT"] = fmt.Sprint(p)
		}
		if err := s.cfg.Registry.RegisterInstance(t.cl.scope, arn, t.id(), attrs, now); err == nil {
			t.entries = append(t.entries, arn)
		}
	}
}
