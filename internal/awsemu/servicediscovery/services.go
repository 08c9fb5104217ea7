package servicediscovery

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

func (s *Service) createService(r *region, c *protocol.Call) (any, error) {
	var in sd.CreateServiceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	nsID := aws.ToString(in.NamespaceId)
	if in.DnsConfig != nil && in.DnsConfig.NamespaceId != nil {
		nsID = *in.DnsConfig.NamespaceId
	}
	if _, err := r.findNamespace(nsID, c.Now); err != nil {
		return nil, err
	}
	for _, svc := range r.services {
		if aws.ToString(svc.svc.Name) == aws.ToString(in.Name) && aws.ToString(svc.svc.NamespaceId) == nsID {
			return nil, protocol.Errorf("ServiceAlreadyExists", "Service %s already exists", aws.ToString(in.Name))
		}
	}
	svc := &service{instances: map[string]*instance{}}
	if err := protocol.Copy(&in, &svc.svc, "Tags"); err != nil {
		return nil, err
	}
	id := s.id("srv")
	svc.svc.Id, svc.svc.Arn, svc.svc.NamespaceId = aws.String(id), aws.String(r.arn("service/"+id)), aws.String(nsID)
	svc.svc.CreateDate, svc.svc.CreatedByAccount, svc.svc.ResourceOwner = aws.Time(c.Now), aws.String(c.Account), aws.String(c.Account)
	r.services[id] = svc
	r.tags[*svc.svc.Arn] = in.Tags
	return &sd.CreateServiceOutput{Service: r.serviceView(svc)}, nil
}

func (r *region) serviceView(svc *service) *types.Service {
	v := svc.svc
	v.InstanceCount = aws.Int32(int32(len(svc.instances)))
	return &v
}

// findService resolves a service id or ARN.
func (r *region) findService(ref string) (*service, error) {
	id := ref[strings.LastIndex(ref, "/")+1:]
	svc, ok := r.services[id]
	if !ok {
		return nil, protocol.Errorf("ServiceNotFound", "Service %s not found", ref)
	}
	return svc, nil
}

func (s *Service) getService(r *region, c *protocol.Call) (any, error) {
	var in sd.GetServiceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.Id))
	if err != nil {
		return nil, err
	}
	return &sd.GetServiceOutput{Service: r.serviceView(svc)}, nil
}

func (s *Service) listServices(r *region, c *protocol.Call) (any, error) {
	var in sd.ListServicesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.ServiceSummary
	for _, id := range sortedKeys(r.services) {
		v := r.serviceView(r.services[id])
		if !matchesFilters(v, in.Filters) {
			continue
		}
		found = append(found, types.ServiceSummary{Id: v.Id, Arn: v.Arn, Name: v.Name, Type: v.Type, Description: v.Description,
			InstanceCount: v.InstanceCount, DnsConfig: v.DnsConfig, HealthCheckConfig: v.HealthCheckConfig,
			HealthCheckCustomConfig: v.HealthCheckCustomConfig, CreateDate: v.CreateDate, CreatedByAccount: v.CreatedByAccount, ResourceOwner: v.ResourceOwner})
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, invalid("invalid NextToken")
	}
	return &sd.ListServicesOutput{Services: found[start:end], NextToken: optString(next)}, nil
}

func matchesFilters(v *types.Service, filters []types.ServiceFilter) bool {
	for _, f := range filters {
		if f.Name == types.ServiceFilterNameNamespaceId && !contains(f.Values, aws.ToString(v.NamespaceId)) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Service) deleteService(r *region, c *protocol.Call) (any, error) {
	var in sd.DeleteServiceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.Id))
	if err != nil {
		return nil, err
	}
	if len(svc.instances) > 0 {
		return nil, protocol.Errorf("ResourceInUse", "Service %s has registered instances", aws.ToString(in.Id))
	}
	delete(r.services, *svc.svc.Id)
	return &sd.DeleteServiceOutput{}, nil
}

func (s *Service) registerInstance(r *region, c *protocol.Call) (any, error) {
	var in sd.RegisterInstanceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.ServiceId))
	if err != nil {
		return nil, err
	}
	if aws.ToString(in.InstanceId) == "" {
		return nil, invalid("InstanceId is required")
	}
	op := s.register(r, c.Now, svc, *in.InstanceId, in.Attributes)
	return &sd.RegisterInstanceOutput{OperationId: aws.String(op)}, nil
}

// register adds or replaces an instance; custom-health instances start
// with the AWS_INIT_HEALTH_STATUS attribute's status (HEALTHY by default).
func (s *Service) register(r *region, now time.Time, svc *service, id string, attrs map[string]string) string {
	health := types.HealthStatusHealthy
	if attrs["AWS_INIT_HEALTH_STATUS"] == string(types.HealthStatusUnhealthy) {
		health = types.HealthStatusUnhealthy
	}
	svc.instances[id] = &instance{inst: types.Instance{Id: aws.String(id), Attributes: attrs, CreatedByAccount: aws.String(r.scope.Account)}, health: health}
	return s.newOperation(r, now, types.OperationTypeRegisterInstance, map[string]string{"INSTANCE": id, "SERVICE": *svc.svc.Id}, instanceTime)
}

func (s *Service) deregisterInstance(r *region, c *protocol.Call) (any, error) {
	var in sd.DeregisterInstanceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.ServiceId))
	if err != nil {
		return nil, err
	}
	id := aws.ToString(in.InstanceId)
	if _, ok := svc.instances[id]; !ok {
		return nil, protocol.Errorf("InstanceNotFound", "Instance %s not found", id)
	}
	delete(svc.instances, id)
	op := s.newOperation(r, c.Now, types.OperationTypeDeregisterInstance, map[string]string{"INSTANCE": id, "SERVICE": *svc.svc.Id}, instanceTime)
	return &sd.DeregisterInstanceOutput{OperationId: aws.String(op)}, nil
}

func (s *Service) getInstance(r *region, c *protocol.Call) (any, error) {
	var in sd.GetInstanceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.ServiceId))
	if err != nil {
		return nil, err
	}
	inst, ok := svc.instances[aws.ToString(in.InstanceId)]
	if !ok {
		return nil, protocol.Errorf("InstanceNotFound", "Instance %s not found", aws.ToString(in.InstanceId))
	}
	v := inst.inst
	return &sd.GetInstanceOutput{Instance: &v, ResourceOwner: svc.svc.ResourceOwner}, nil
}

func (s *Service) listInstances(r *region, c *protocol.Call) (any, error) {
	var in sd.ListInstancesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.ServiceId))
	if err != nil {
		return nil, err
	}
	var found []types.InstanceSummary
	for _, id := range sortedKeys(svc.instances) {
		inst := svc.instances[id].inst
		found = append(found, types.InstanceSummary{Id: inst.Id, Attributes: inst.Attributes, CreatedByAccount: inst.CreatedByAccount})
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, invalid("invalid NextToken")
	}
	return &sd.ListInstancesOutput{Instances: found[start:end], NextToken: optString(next), ResourceOwner: svc.svc.ResourceOwner}, nil
}

func (s *Service) discoverInstances(r *region, c *protocol.Call) (any, error) {
	var in sd.DiscoverInstancesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc := r.serviceByName(aws.ToString(in.NamespaceName), aws.ToString(in.ServiceName), c)
	if svc == nil {
		return nil, protocol.Errorf("ServiceNotFound", "Service %s not found in namespace %s", aws.ToString(in.ServiceName), aws.ToString(in.NamespaceName))
	}
	out := &sd.DiscoverInstancesOutput{}
	for _, id := range sortedKeys(svc.instances) {
		inst := svc.instances[id]
		if !wantHealth(in.HealthStatus, inst.health) || !matchAttrs(inst.inst.Attributes, in.QueryParameters) {
			continue
		}
		out.Instances = append(out.Instances, types.HttpInstanceSummary{InstanceId: inst.inst.Id, NamespaceName: in.NamespaceName,
			ServiceName: in.ServiceName, Attributes: inst.inst.Attributes, HealthStatus: inst.health})
	}
	if max := int(aws.ToInt32(in.MaxResults)); max > 0 && len(out.Instances) > max {
		out.Instances = out.Instances[:max]
	}
	return out, nil
}

func (r *region) serviceByName(nsName, name string, c *protocol.Call) *service {
	for _, svc := range r.services {
		ns, err := r.findNamespace(aws.ToString(svc.svc.NamespaceId), c.Now)
		if err == nil && aws.ToString(ns.ns.Name) == nsName && aws.ToString(svc.svc.Name) == name {
			return svc
		}
	}
	return nil
}

func wantHealth(filter types.HealthStatusFilter, h types.HealthStatus) bool {
	switch filter {
	case types.HealthStatusFilterUnhealthy:
		return h == types.HealthStatusUnhealthy
	case types.HealthStatusFilterAll:
		return true
	default: // HEALTHY, and HEALTHY_OR_ELSE_ALL when some are healthy
		return h == types.HealthStatusHealthy
	}
}

func matchAttrs(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func (s *Service) getInstancesHealthStatus(r *region, c *protocol.Call) (any, error) {
	var in sd.GetInstancesHealthStatusInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.ServiceId))
	if err != nil {
		return nil, err
	}
	out := &sd.GetInstancesHealthStatusOutput{Status: map[string]types.HealthStatus{}}
	for id, inst := range svc.instances {
		if len(in.Instances) == 0 || contains(in.Instances, id) {
			out.Status[id] = inst.health
		}
	}
	return out, nil
}

func (s *Service) updateInstanceCustomHealthStatus(r *region, c *protocol.Call) (any, error) {
	var in sd.UpdateInstanceCustomHealthStatusInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := r.findService(aws.ToString(in.ServiceId))
	if err != nil {
		return nil, err
	}
	if svc.svc.HealthCheckCustomConfig == nil {
		return nil, protocol.Errorf("CustomHealthNotFound", "Service %s has no custom health check", aws.ToString(in.ServiceId))
	}
	inst, ok := svc.instances[aws.ToString(in.InstanceId)]
	if !ok {
		return nil, protocol.Errorf("InstanceNotFound", "Instance %s not found", aws.ToString(in.InstanceId))
	}
	inst.health = types.HealthStatus(in.Status)
	return &sd.UpdateInstanceCustomHealthStatusOutput{}, nil
}

func (s *Service) tagResource(r *region, c *protocol.Call) (any, error) {
	var in sd.TagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	arn := aws.ToString(in.ResourceARN)
	tags, ok := r.tags[arn]
	if !ok {
		return nil, protocol.Errorf("ResourceNotFoundException", "Resource %s not found", arn)
	}
	for _, t := range in.Tags {
		kept := tags[:0]
		for _, old := range tags {
			if aws.ToString(old.Key) != aws.ToString(t.Key) {
				kept = append(kept, old)
			}
		}
		tags = append(kept, t)
	}
	r.tags[arn] = tags
	return &sd.TagResourceOutput{}, nil
}

func (s *Service) untagResource(r *region, c *protocol.Call) (any, error) {
	var in sd.UntagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	arn := aws.ToString(in.ResourceARN)
	tags, ok := r.tags[arn]
	if !ok {
		return nil, protocol.Errorf("ResourceNotFoundException", "Resource %s not found", arn)
	}
	var kept []types.Tag
	for _, t := range tags {
		if !contains(in.TagKeys, aws.ToString(t.Key)) {
			kept = append(kept, t)
		}
	}
	r.tags[arn] = kept
	return &sd.UntagResourceOutput{}, nil
}

func (s *Service) listTagsForResource(r *region, c *protocol.Call) (any, error) {
	var in sd.ListTagsForResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	tags, ok := r.tags[aws.ToString(in.ResourceARN)]
	if !ok {
		return nil, protocol.Errorf("ResourceNotFoundException", "Resource %s not found", aws.ToString(in.ResourceARN))
	}
	return &sd.ListTagsForResourceOutput{Tags: tags}, nil
}

// RegisterInstance registers an instance on behalf of another service
// (ECS tasks of services with service registries).
func (s *Service) RegisterInstance(scope protocol.Scope, serviceArn, instanceID string, attrs map[string]string, now time.Time) error {
	r := s.region(scope)
	svc, err := r.findService(serviceArn)
	if err != nil {
		return err
	}
	s.register(r, now, svc, instanceID, attrs)
	return nil
}

// DeregisterInstance removes an instance on behalf of another service.
func (s *Service) DeregisterInstance(scope protocol.Scope, serviceArn, instanceID string, now time.Time) error {
	r := s.region(scope)
	svc, err := r.findService(serviceArn)
	if err != nil {
		return err
	}
	if _, ok := svc.instances[instanceID]; ok {
		delete(svc.instances, instanceID)
		s.newOperation(r, now, types.OperationTypeDeregisterInstance, map[string]string{"INSTANCE": instanceID, "SERVICE": *svc.svc.Id}, instanceTime)
	}
	return nil
}
