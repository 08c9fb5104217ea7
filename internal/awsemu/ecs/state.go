package ecs

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// region is the ECS state of one account and region.
type region struct {
	scope    protocol.Scope
	clusters map[string]*cluster // by name
	order    []string            // cluster names in creation order
	families map[string]*family
	fams     []string // family names in creation order
	tags     map[string][]types.Tag
	nextIP   int
}

func newRegion(scope protocol.Scope) *region {
	return &region{
		scope:    scope,
		clusters: map[string]*cluster{},
		families: map[string]*family{},
		tags:     map[string][]types.Tag{},
	}
}

func (r *region) arn(resource string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s", r.scope.Region, r.scope.Account, resource)
}

// allocateIP returns a fresh private IPv4 address for a task ENI.
func (r *region) allocateIP() string {
	r.nextIP++
	return fmt.Sprintf("10.0.%d.%d", r.nextIP/250, r.nextIP%250+2)
}

// cluster is one ECS cluster with its services and tasks.
type cluster struct {
	scope    protocol.Scope
	c        types.Cluster
	services map[string]*service // by name
	svcOrder []string
	tasks    map[string]*task // by ARN
	taskList []string
	// instances are the registered container instances, in order.
	instances []*types.ContainerInstance
}

// family is the revisions of one task definition family.
type family struct {
	name      string
	revisions []*types.TaskDefinition // index = revision-1
}

// nameFromArn returns the last path element of an ARN, or s itself.
func nameFromArn(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	return s[strings.LastIndex(s, "/")+1:]
}

// findCluster resolves a cluster name or ARN ("default" when empty).
func (r *region) findCluster(ref *string) (*cluster, error) {
	name := "default"
	if ref != nil && *ref != "" {
		name = nameFromArn(*ref)
	}
	if err := checkClusterName(name); err != nil {
		return nil, err
	}
	cl, ok := r.clusters[name]
	if !ok || *cl.c.Status == "INACTIVE" {
		return nil, protocol.Errorf("ClusterNotFoundException", "Cluster not found.")
	}
	return cl, nil
}

// clusterName is the pattern of cluster names, as ECS quotes it.
var clusterName = regexp.MustCompile(`^[a-zA-Z0-9\-_]{1,255}$`)

// checkClusterName refuses a cluster name outside clusterName with ECS's
// InvalidParameterException.
func checkClusterName(name string) error {
	if !clusterName.MatchString(name) {
		return invalidParameter("Cluster must match %s, but was %s", clusterName, name)
	}
	return nil
}

// findTaskDef resolves "family", "family:rev" or a task definition ARN.
func (r *region) findTaskDef(ref string) (*types.TaskDefinition, bool) {
	ref = nameFromArn(ref)
	name, rev, hasRev := strings.Cut(ref, ":")
	f, ok := r.families[name]
	if !ok {
		return nil, false
	}
	if !hasRev {
		for i := len(f.revisions) - 1; i >= 0; i-- {
			if f.revisions[i].Status == types.TaskDefinitionStatusActive {
				return f.revisions[i], true
			}
		}
		return nil, false
	}
	var n int
	if _, err := fmt.Sscanf(rev, "%d", &n); err != nil || n < 1 || n > len(f.revisions) {
		return nil, false
	}
	return f.revisions[n-1], true
}

func ptrTime(t time.Time) *time.Time { return &t }
