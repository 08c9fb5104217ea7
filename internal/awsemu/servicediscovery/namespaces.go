package servicediscovery

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

func (s *Service) createHTTPNamespace(r *region, c *protocol.Call) (any, error) {
	var in sd.CreateHttpNamespaceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	props := &types.NamespaceProperties{HttpProperties: &types.HttpProperties{HttpName: in.Name}}
	id, err := s.createNamespace(r, c, aws.ToString(in.Name), types.NamespaceTypeHttp, in.Description, props, in.Tags, 0)
	if err != nil {
		return nil, err
	}
	return &sd.CreateHttpNamespaceOutput{OperationId: aws.String(id)}, nil
}

func (s *Service) createPrivateDNSNamespace(r *region, c *protocol.Call) (any, error) {
	var in sd.CreatePrivateDnsNamespaceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if aws.ToString(in.Vpc) == "" {
		return nil, invalid("Vpc is required")
	}
	ttl := int64(15)
	if in.Properties != nil && in.Properties.DnsProperties != nil && in.Properties.DnsProperties.SOA != nil {
		ttl = aws.ToInt64(in.Properties.DnsProperties.SOA.TTL)
	}
	props := &types.NamespaceProperties{
		HttpProperties: &types.HttpProperties{HttpName: in.Name},
		DnsProperties:  &types.DnsProperties{HostedZoneId: aws.String(s.id("Z")), SOA: &types.SOA{TTL: aws.Int64(ttl)}},
	}
	id, err := s.createNamespace(r, c, aws.ToString(in.Name), types.NamespaceTypeDnsPrivate, in.Description, props, in.Tags, namespaceTime)
	if err != nil {
		return nil, err
	}
	return &sd.CreatePrivateDnsNamespaceOutput{OperationId: aws.String(id)}, nil
}

// createNamespace starts a CREATE_NAMESPACE operation; the namespace is
// visible once the operation succeeds.
func (s *Service) createNamespace(r *region, c *protocol.Call, name string, typ types.NamespaceType, desc *string,
	props *types.NamespaceProperties, tags []types.Tag, d time.Duration) (string, error) {
	if name == "" {
		return "", invalid("Name is required")
	}
	for _, ns := range r.namespaces {
		if aws.ToString(ns.ns.Name) == name && ns.ns.Type == typ {
			return "", protocol.Errorf("NamespaceAlreadyExists", "Namespace %s already exists", name)
		}
	}
	id := s.id("ns")
	ns := &namespace{ready: c.Now.Add(d), ns: types.Namespace{Id: aws.String(id), Arn: aws.String(r.arn("namespace/" + id)), Name: aws.String(name),
		Type: typ, Description: desc, Properties: props, CreateDate: aws.Time(c.Now), ServiceCount: aws.Int32(0), ResourceOwner: aws.String(c.Account)}}
	r.namespaces[id] = ns
	r.tags[*ns.ns.Arn] = tags
	return s.newOperation(r, c.Now, types.OperationTypeCreateNamespace, map[string]string{"NAMESPACE": id}, d), nil
}

func (r *region) findNamespace(id string, now time.Time) (*namespace, error) {
	ns, ok := r.namespaces[id]
	if !ok || now.Before(ns.ready) {
		return nil, protocol.Errorf("NamespaceNotFound", "Namespace %s not found", id)
	}
	return ns, nil
}

func (r *region) namespaceView(ns *namespace) *types.Namespace {
	v := ns.ns
	n := int32(0)
	for _, svc := range r.services {
		if aws.ToString(svc.svc.NamespaceId) == aws.ToString(ns.ns.Id) {
			n++
		}
	}
	v.ServiceCount = aws.Int32(n)
	return &v
}

func (s *Service) getNamespace(r *region, c *protocol.Call) (any, error) {
	var in sd.GetNamespaceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	ns, err := r.findNamespace(aws.ToString(in.Id), c.Now)
	if err != nil {
		return nil, err
	}
	return &sd.GetNamespaceOutput{Namespace: r.namespaceView(ns)}, nil
}

func (s *Service) listNamespaces(r *region, c *protocol.Call) (any, error) {
	var in sd.ListNamespacesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.NamespaceSummary
	for _, id := range sortedKeys(r.namespaces) {
		ns := r.namespaces[id]
		if c.Now.Before(ns.ready) {
			continue
		}
		v := r.namespaceView(ns)
		found = append(found, types.NamespaceSummary{Id: v.Id, Arn: v.Arn, Name: v.Name, Type: v.Type, Description: v.Description,
			Properties: v.Properties, CreateDate: v.CreateDate, ServiceCount: v.ServiceCount, ResourceOwner: v.ResourceOwner})
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, invalid("invalid NextToken")
	}
	return &sd.ListNamespacesOutput{Namespaces: found[start:end], NextToken: optString(next)}, nil
}

func (s *Service) deleteNamespace(r *region, c *protocol.Call) (any, error) {
	var in sd.DeleteNamespaceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	ns, err := r.findNamespace(aws.ToString(in.Id), c.Now)
	if err != nil {
		return nil, err
	}
	if aws.ToInt32(r.namespaceView(ns).ServiceCount) > 0 {
		return nil, protocol.Errorf("ResourceInUse", "Namespace %s has services", aws.ToString(in.Id))
	}
	delete(r.namespaces, aws.ToString(in.Id))
	op := s.newOperation(r, c.Now, types.OperationTypeDeleteNamespace, map[string]string{"NAMESPACE": aws.ToString(in.Id)}, instanceTime)
	return &sd.DeleteNamespaceOutput{OperationId: aws.String(op)}, nil
}
