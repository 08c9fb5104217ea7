package awsemu

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// ecrRef is an image reference of an emulated ECR registry with a tag:
// ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG.
var ecrRef = regexp.MustCompile(`^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([a-z0-9][a-z0-9._/-]*):([\w][\w.-]{0,127})$`)

// PushRequest is the body of POST /_jibe/ecr/push.
type PushRequest struct {
	// Image is ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG.
	Image string `json:"image"`
	// Manifest is the image manifest; default one unique to the image
	// and the emulated time, so every push makes a new digest.
	Manifest string `json:"manifest,omitempty"`
}

// PushResponse is the answer of POST /_jibe/ecr/push.
type PushResponse struct {
	// Digest is the pushed image's digest (sha256:…).
	Digest string `json:"digest"`
}

// PushImage pushes an image to the emulated ECR, as a CI job's docker
// push does: image is ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG;
// the repository is created when missing, the tag moves to the new
// image, and its push time is the emulated now. An empty manifest is one
// unique to the image and the time. It returns the digest.
func (e *Emulator) PushImage(image, manifest string) (string, error) {
	m := ecrRef.FindStringSubmatch(image)
	if m == nil {
		return "", fmt.Errorf("image %q is not ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG", image)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	if manifest == "" {
		manifest = fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","annotations":{"image":%q,"pushed":%q}}`,
			image, now.UTC().Format("2006-01-02T15:04:05.000000000Z"))
	}
	return e.b.ecr.Push(protocol.Scope{Account: m[1], Region: m[2]}, m[3], m[4], manifest, now)
}

func (e *Emulator) controlPush(w http.ResponseWriter, r *http.Request) error {
	var pr PushRequest
	if err := decode(r, &pr); err != nil {
		return err
	}
	digest, err := e.PushImage(pr.Image, pr.Manifest)
	if err != nil {
		return err
	}
	writeJSON(w, PushResponse{Digest: digest})
	return nil
}
