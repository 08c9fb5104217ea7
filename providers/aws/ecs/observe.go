package ecs

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// describeBatch is DescribeServices' limit of services per call.
const describeBatch = 10

// slot names the services a deployment may run, per strategy.
type slots struct {
	// stable is the service file's name: the service of a rolling
	// deployment, the stable service of a canary, the blue slot.
	stable string
	// next is the canary service or the green slot; "" for rolling.
	next string
}

// slotsOf returns the deployment's service names.
func slotsOf(d *reconcile.Deployment) slots {
	name := d.Target.Service.ServiceName
	switch d.Mode {
	case spec.StrategyBlueGreen:
		return slots{stable: name, next: name + "-green"}
	case spec.StrategyCanary:
		return slots{stable: name, next: name + "-canary"}
	}
	return slots{stable: name}
}

// names returns the slot names that are set.
func (s slots) names() []string {
	if s.next == "" {
		return []string{s.stable}
	}
	return []string{s.stable, s.next}
}

// describeServices returns the ACTIVE services among names of the
// cluster, by name, with tags, in batches of describeBatch.
func (p *Platform) describeServices(ctx context.Context, cluster string, names []string) (map[string]*ecstypes.Service, error) {
	out := map[string]*ecstypes.Service{}
	for batch := range slices.Chunk(names, describeBatch) {
		res, err := p.c.ECS.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch,
			Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
		if err != nil {
			return nil, classify(fmt.Errorf("describe services of cluster %s: %w", cluster, err))
		}
		for i := range res.Services {
			if s := &res.Services[i]; aws.ToString(s.Status) == "ACTIVE" {
				out[aws.ToString(s.ServiceName)] = s
			}
		}
	}
	return out, nil
}

// describeService returns the ACTIVE service name, or nil.
func (p *Platform) describeService(ctx context.Context, cluster, name string) (*ecstypes.Service, error) {
	m, err := p.describeServices(ctx, cluster, []string{name})
	return m[name], err
}

// taskDefCache holds described task definitions by ARN: a revision never
// changes once registered.
type taskDefCache struct {
	mu sync.Mutex
	m  map[string]*spec.ECSTaskDefinition
}

func (c *taskDefCache) get(arn string) (*spec.ECSTaskDefinition, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	td, ok := c.m[arn]
	return td, ok
}

func (c *taskDefCache) put(arn string, td *spec.ECSTaskDefinition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*spec.ECSTaskDefinition{}
	}
	c.m[arn] = td
}

// taskDef returns the task definition arn in the spec's shape, with its
// tags.
func (p *Platform) taskDef(ctx context.Context, arn string) (*spec.ECSTaskDefinition, error) {
	if td, ok := p.tds.get(arn); ok {
		return td, nil
	}
	out, err := p.c.ECS.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return nil, classify(fmt.Errorf("describe task definition %s: %w", arn, err))
	}
	td := &spec.ECSTaskDefinition{}
	if err := apidiff.Recode(out.TaskDefinition, td); err != nil {
		return nil, err
	}
	if err := apidiff.Recode(out.Tags, &td.Tags); err != nil {
		return nil, err
	}
	p.tds.put(arn, td)
	return td, nil
}

// serviceSpec returns a live service in the spec's shape.
func serviceSpec(s *ecstypes.Service) (*spec.ECSService, error) {
	out := &spec.ECSService{}
	if err := apidiff.Recode(s, out); err != nil {
		return nil, err
	}
	return out, nil
}

// tagValue returns the value of a service tag.
func tagValue(s *ecstypes.Service, key string) string {
	for _, t := range s.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
