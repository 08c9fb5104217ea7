package spec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// UpdatePolicy says which newer version of an artifact the artifact watch
// proposes. Exactly one field is set, and it must fit the artifact's kind:
// semver, tag and digest for images (of an ECR private registry, which the
// agent reads with an account of its configuration), latestVersion for S3
// objects, ami for AMIs.
type UpdatePolicy struct {
	// Semver is a range of semantic versions, such as "^1.4", "~2.3.1" or
	// ">=1.4.0 <2" (Masterminds/semver syntax). Tags that parse as
	// versions (a leading v allowed) and fall in the range are candidates;
	// the highest wins. Pre-releases are candidates only when the range
	// names one ("^2.0.0-0").
	Semver string `json:"semver,omitempty"`
	// Tag picks among tags that match a pattern, ordered by a sort key.
	Tag *TagPolicy `json:"tag,omitempty"`
	// Digest follows a moving tag (such as "stable") by its digest: the
	// artifact is written repository:tag@sha256:<digest>, so that what
	// runs is pinned and the tag stays readable, and a push that moves the
	// tag to another image proposes the new digest.
	Digest string `json:"digest,omitempty"`
	// LatestVersion follows the newest version of an S3 object
	// (ListObjectVersions; the bucket must be versioned): the change edits
	// s3.version, which must be written.
	LatestVersion bool `json:"latestVersion,omitempty"`
	// AMI follows the newest image (by creation date) whose name matches a
	// pattern, of an owner.
	AMI *AMIPolicy `json:"ami,omitempty"`
}

// TagPolicy orders the tags of an image repository that match a pattern.
type TagPolicy struct {
	// Pattern is a regular expression (Go syntax) a tag must match in
	// full, such as '^main-(?P<build>\d+)$'. With one named capture group,
	// the sort key is what it captures; without, the whole tag.
	Pattern string `json:"pattern" jsonschema:"required"`
	// SortBy orders the matching tags, highest last: numerical (the key
	// as a whole number; tags whose key is not one are skipped),
	// alphabetical, or pushed (by imagePushedAt: the key is unused).
	SortBy TagSort `json:"sortBy" jsonschema:"required,enum=numerical,enum=alphabetical,enum=pushed"`
}

// TagSort orders matching tags.
type TagSort string

// The tag orders.
const (
	SortNumerical    TagSort = "numerical"
	SortAlphabetical TagSort = "alphabetical"
	SortPushed       TagSort = "pushed"
)

// AMIPolicy names a series of machine images.
type AMIPolicy struct {
	// Name is the images' name pattern, with * and ? wildcards, as EC2's
	// name filter takes it, such as "base-web-*".
	Name string `json:"name" jsonschema:"required"`
	// Owner is the images' owner: "self" (the account the application's
	// first AWS environment deploys to) or a twelve-digit account ID.
	// Default self.
	Owner string `json:"owner,omitempty"`
}

// The kinds of update policy, as UpdatePolicy.Kind returns them.
const (
	PolicySemver        = "semver"
	PolicyTag           = "tag"
	PolicyDigest        = "digest"
	PolicyLatestVersion = "latestVersion"
	PolicyAMI           = "ami"
)

// Kind returns the name of the policy's one field set, or "" when none or
// several are.
func (p *UpdatePolicy) Kind() string {
	names := []string{PolicySemver, PolicyTag, PolicyDigest, PolicyLatestVersion, PolicyAMI}
	set := oneOf(p.Semver != "", p.Tag != nil, p.Digest != "", p.LatestVersion, p.AMI != nil)
	if len(set) != 1 {
		return ""
	}
	return names[set[0]]
}

// ecrImageRE matches images of ECR private registries:
// ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/REPOSITORY[:TAG][@DIGEST].
var ecrImageRE = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^@:]+)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`)

// tagRE is the form of an image tag.
var tagRE = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)

// ownerRE is the form of an AMI owner.
var ownerRE = regexp.MustCompile(`^(self|\d{12})$`)

// ECRImage is an image reference of an ECR private registry.
type ECRImage struct {
	// Account and Region name the registry.
	Account, Region string
	// Repository is the repository's name.
	Repository string
	// Tag and Digest are as written; either may be empty.
	Tag, Digest string
}

// ParseECRImage parses an image of an ECR private registry; ok is false
// for other registries.
func ParseECRImage(image string) (img ECRImage, ok bool) {
	m := ecrImageRE.FindStringSubmatch(image)
	if m == nil {
		return ECRImage{}, false
	}
	return ECRImage{Account: m[1], Region: m[2], Repository: m[3], Tag: m[4], Digest: m[5]}, true
}

// ParseSemverRange parses a semver policy's range.
func ParseSemverRange(r string) (*semver.Constraints, error) {
	c, err := semver.NewConstraint(r)
	if err != nil {
		return nil, fmt.Errorf("%q is not a semantic version range such as \"^1.4\" or \">=1.4.0 <2\": %w", r, err)
	}
	return c, nil
}

// CompileTagPattern compiles a tag policy's pattern, anchored to match
// whole tags, and returns the index of its named capture group (0, the
// whole match, when it has none).
func CompileTagPattern(pattern string) (*regexp.Regexp, int, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, 0, fmt.Errorf("%q is not a regular expression: %w", pattern, err)
	}
	key := 0
	for i, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		if key != 0 {
			return nil, 0, fmt.Errorf("%q has more than one named capture group; name only the one that is the sort key", pattern)
		}
		key = i
	}
	return re, key, nil
}

// updatePolicy validates an artifact's update policy.
func (v *validator) updatePolicy(field string, a *Artifact) {
	p := a.Update
	field += ".update"
	kind := p.Kind()
	if kind == "" {
		v.errorf(field, "set exactly one of semver, tag, digest, latestVersion and ami")
		return
	}
	if fits := policyKinds[a.Kind()]; a.Kind() != ArtifactUnknown && !strings.Contains(fits, kind) {
		v.errorf(field+"."+kind, "an update policy %s does not fit this artifact: %s", kind, policyHint[a.Kind()])
		return
	}
	switch a.Kind() {
	case ArtifactImage:
		v.imagePolicy(field, a.Image, p)
	case ArtifactS3:
		if a.S3.Version == "" {
			v.errorf(field+".latestVersion", "write the object's current s3.version: the watch proposes a change of that line")
		}
	case ArtifactAMI:
		v.amiPolicy(field+".ami", p.AMI)
	}
}

// policyKinds are the policies that fit each kind of artifact.
var policyKinds = map[ArtifactKind]string{
	ArtifactImage: PolicySemver + " " + PolicyTag + " " + PolicyDigest,
	ArtifactS3:    PolicyLatestVersion,
	ArtifactAMI:   PolicyAMI,
}

var policyHint = map[ArtifactKind]string{
	ArtifactImage: "images take semver, tag or digest",
	ArtifactS3:    "S3 objects take latestVersion",
	ArtifactAMI:   "AMIs take ami",
}

func (v *validator) imagePolicy(field, image string, p *UpdatePolicy) {
	img, ok := ParseECRImage(image)
	if !ok {
		v.errorf(field, "%q is not an image of an ECR private registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG): the watch reads only registries it can reach with an account of the agent configuration; remove update or use such an image", image)
		return
	}
	switch {
	case p.Semver != "":
		if _, err := ParseSemverRange(p.Semver); err != nil {
			v.errorf(field+".semver", "%v", err)
		}
	case p.Tag != nil:
		if _, _, err := CompileTagPattern(p.Tag.Pattern); err != nil {
			v.errorf(field+".tag.pattern", "%v", err)
		}
	case p.Digest != "":
		if !tagRE.MatchString(p.Digest) {
			v.errorf(field+".digest", "%q is not an image tag: name the moving tag to follow, such as \"stable\"", p.Digest)
		} else if img.Tag != "" && img.Tag != p.Digest {
			v.errorf(field+".digest", "the image is written with tag %q but the policy follows %q: write the image as repository:%s@sha256:<digest> or repository@sha256:<digest>", img.Tag, p.Digest, p.Digest)
		}
	}
}

func (v *validator) amiPolicy(field string, p *AMIPolicy) {
	if strings.Trim(p.Name, "*?") == "" {
		v.errorf(field+".name", "name a series of images with a pattern such as \"base-web-*\"; a pattern of wildcards alone would follow any image")
	}
	if p.Owner != "" && !ownerRE.MatchString(p.Owner) {
		v.errorf(field+".owner", "%q is not an owner: use self or a twelve-digit account ID", p.Owner)
	}
}
