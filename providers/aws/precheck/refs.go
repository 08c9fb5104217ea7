package precheck

import (
	"regexp"
	"strings"
)

// Ref is one reference a deployment's files make to something outside
// them: where it is (the spec path) and what it names (an ARN, an id, a
// parameter name, an image).
type Ref struct {
	Field string
	ID    string
}

// ImageRef is a container image hosted in ECR: its repository and tag or
// digest.
type ImageRef struct {
	Ref
	Repo, Tag, Digest string
}

// Refs are the references of a deployment that Check can look up: those
// in the deployment's own account and region. Platforms leave out
// references elsewhere (a role of another account, an image of another
// registry).
type Refs struct {
	Roles        []Ref
	TargetGroups []Ref
	Listeners    []Ref
	Rules        []Ref
	Subnets      []Ref
	Groups       []Ref
	Images       []ImageRef
	Secrets      []Ref
	Parameters   []Ref
	Objects      []ObjectRef
	Layers       []Ref
	Trusts       []TrustRef
	// Queues and Topics are SQS queue and SNS topic ARNs.
	Queues []Ref
	Topics []Ref
	// MachineImages are AMI IDs (of the region).
	MachineImages []Ref
	// InstanceProfiles are instance profile names or ARNs (of the
	// account).
	InstanceProfiles []Ref
}

// Scope is the account and region a platform sees.
type Scope struct {
	Account, Region string
}

// AddELB adds an Elastic Load Balancing ARN of sc to list; ARNs of other
// accounts and regions are left out.
func (sc Scope) AddELB(list *[]Ref, field, arn string) {
	if a, ok := ParseARN(arn); ok && a.Account == sc.Account && a.Region == sc.Region {
		*list = append(*list, Ref{Field: field, ID: arn})
	}
}

// ARN is a parsed ARN: arn:partition:service:region:account:resource.
type ARN struct {
	Service, Region, Account, Resource string
}

// ParseARN parses s; ok is false when s is not an ARN.
func ParseARN(s string) (ARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, false
	}
	return ARN{Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, true
}

// roleName returns the name of a role ARN: the last segment of its path
// ("arn:aws:iam::1:role/service/exec" names "exec").
func roleName(roleARN string) string {
	return roleARN[strings.LastIndex(roleARN, "/")+1:]
}

// ecrImage matches image references of ECR private registries:
// ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/REPOSITORY[:TAG|@DIGEST].
var ecrImage = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`)

// ParseECRImage parses an image of sc's ECR registry; ok is false for
// other registries. An image without tag or digest is "latest".
func ParseECRImage(image string, sc Scope) (ImageRef, bool) {
	m := ecrImage.FindStringSubmatch(image)
	if m == nil || m[1] != sc.Account || m[2] != sc.Region {
		return ImageRef{}, false
	}
	img := ImageRef{Ref: Ref{ID: image}, Repo: m[3], Tag: m[4], Digest: m[5]}
	if img.Tag == "" && img.Digest == "" {
		img.Tag = "latest"
	}
	return img, true
}

// ids returns the distinct ids of rs, in order.
func ids(rs []Ref) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r.ID)
		}
	}
	return out
}
