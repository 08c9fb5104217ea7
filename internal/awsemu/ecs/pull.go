package ecs

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Images is the part of ECR that task starts pull from.
type Images interface {
	// ImageExists reports whether the repository of scope holds an image
	// with the tag or digest ref.
	ImageExists(scope protocol.Scope, repository, ref string) bool
}

// ecrImage matches ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/REPOSITORY[:TAG][@DIGEST].
var ecrImage = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([a-z0-9._/-]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$`)

// pullError returns the reason a task of scope cannot pull one of its
// images ("" when all can be pulled): an image URI of the task's own
// account's ECR that names no image in it. Other registries (and other
// accounts' repositories, which need repository policies the emulator
// does not model) are always pullable.
func (s *Service) pullError(scope protocol.Scope, t *types.Task) string {
	if s.cfg.Images == nil {
		return ""
	}
	for _, ct := range t.Containers {
		image := aws.ToString(ct.Image)
		m := ecrImage.FindStringSubmatch(image)
		if m == nil || m[1] != scope.Account {
			continue
		}
		ref := m[5]
		if ref == "" {
			ref = m[4]
		}
		if ref == "" {
			ref = "latest"
		}
		if !s.cfg.Images.ImageExists(protocol.Scope{Account: m[1], Region: m[2]}, m[3], ref) {
			return fmt.Sprintf("CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref %s: %s: not found", image, image)
		}
	}
	return ""
}
