// Package eks emulates Amazon EKS (restJson1): clusters and managed node
// groups that move CREATING → ACTIVE → (UPDATING) → DELETING over emulated
// time, and version updates tracked as Update objects.
package eks

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eks/schemas"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Timing of the emulated control plane.
const (
	clusterCreateTime   = 10 * time.Minute
	clusterDeleteTime   = 5 * time.Minute
	clusterUpdateTime   = 20 * time.Minute
	nodegroupCreateTime = 3 * time.Minute
	nodegroupDeleteTime = 3 * time.Minute
	nodegroupUpdateTime = 10 * time.Minute
)

// DefaultVersion is the Kubernetes version of clusters created without one.
const DefaultVersion = "1.33"

// Service is the emulated EKS.
type Service struct {
	codec   *protocol.RESTJSON
	regions map[protocol.Scope]*region
	ids     int
}

// New returns an empty EKS.
func New() *Service {
	return &Service{codec: protocol.NewRESTJSON(schemas.AWSWesleyFrontend), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "eks".
func (s *Service) Name() string { return "eks" }

// Kind returns restJson1.
func (s *Service) Kind() protocol.Kind { return protocol.KindRESTJSON }

// Codec returns the restJson1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

type region struct {
	scope    protocol.Scope
	clusters map[string]*cluster
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, clusters: map[string]*cluster{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(s *Service, r *region, c *protocol.Call) (any, error)

type route struct {
	protocol.Route
	h handler
}

var routes = []route{
	{protocol.NewRoute("POST /clusters", "CreateCluster"), (*Service).createCluster},
	{protocol.NewRoute("GET /clusters", "ListClusters"), (*Service).listClusters},
	{protocol.NewRoute("GET /clusters/{name}", "DescribeCluster"), (*Service).describeCluster},
	{protocol.NewRoute("DELETE /clusters/{name}", "DeleteCluster"), (*Service).deleteCluster},
	{protocol.NewRoute("POST /clusters/{name}/updates", "UpdateClusterVersion"), (*Service).updateClusterVersion},
	{protocol.NewRoute("GET /clusters/{name}/updates/{updateId}", "DescribeUpdate"), (*Service).describeUpdate},
	{protocol.NewRoute("POST /clusters/{name}/node-groups", "CreateNodegroup"), (*Service).createNodegroup},
	{protocol.NewRoute("GET /clusters/{name}/node-groups", "ListNodegroups"), (*Service).listNodegroups},
	{protocol.NewRoute("GET /clusters/{name}/node-groups/{nodegroupName}", "DescribeNodegroup"), (*Service).describeNodegroup},
	{protocol.NewRoute("DELETE /clusters/{name}/node-groups/{nodegroupName}", "DeleteNodegroup"), (*Service).deleteNodegroup},
	{protocol.NewRoute("POST /clusters/{name}/node-groups/{nodegroupName}/update-version", "UpdateNodegroupVersion"), (*Service).updateNodegroupVersion},
	{protocol.NewRoute("GET /tags/{resourceArn}", "ListTagsForResource"), (*Service).listTags},
	{protocol.NewRoute("POST /tags/{resourceArn}", "TagResource"), (*Service).tagResource},
}

// Route resolves the operation from the method and path.
func (s *Service) Route(c *protocol.Call) bool {
	for _, rt := range routes {
		if params, ok := rt.Match(c.HTTP.Method, c.HTTP.URL.EscapedPath()); ok {
			c.Operation, c.Params = rt.Operation, params
			return true
		}
	}
	return false
}

// Handle serves one EKS call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	for _, rt := range routes {
		if rt.Operation == c.Operation {
			return rt.h(s, s.region(c.Scope()), c)
		}
	}
	return nil, protocol.StatusErrorf(http.StatusNotFound, "UnknownOperationException", "unknown operation %s", c.Operation)
}

// Step completes the transitions that are due.
func (s *Service) Step(now time.Time) {
	for _, r := range s.regions {
		for _, name := range sortedKeys(r.clusters) {
			if r.clusters[name].step(now) {
				delete(r.clusters, name)
			}
		}
	}
}

func (s *Service) newID() string {
	s.ids++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", s.ids, s.ids)
}

func notFound(format string, args ...any) error {
	return protocol.StatusErrorf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

func inUse(format string, args ...any) error {
	return protocol.StatusErrorf(http.StatusConflict, "ResourceInUseException", format, args...)
}

func invalid(format string, args ...any) error {
	return protocol.Errorf("InvalidParameterException", format, args...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
