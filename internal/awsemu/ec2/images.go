package ec2

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Image states, as DescribeImages reports them.
const (
	ImagePending   = "pending"
	ImageAvailable = "available"
	ImageFailed    = "failed"
)

// registerTime is how long a registered image stays pending.
const registerTime = 30 * time.Second

// amiID is the form of an AMI ID; others are malformed.
var amiID = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)

// Image is a machine image of one account and region. AddImage seeds one
// with a chosen ID (the emulator's stand-in for an AMI baked elsewhere);
// RegisterImage creates one pending for 30s.
type Image struct {
	ID, Name, Description string
	// State is pending, available or failed; a seeded image with no state
	// is available. A registered one is pending until 30s after Created.
	State   string
	Created time.Time
}

// state is the image's state at now.
func (img *Image) state(now time.Time) string {
	if img.State == ImagePending && !now.Before(img.Created.Add(registerTime)) {
		return ImageAvailable
	}
	return img.State
}

// AddImage seeds an image in an account and region, as if registered
// long ago; it fails for an ID not of the form ami-<8 to 17 hex>.
func (s *Service) AddImage(scope protocol.Scope, img Image) error {
	if !amiID.MatchString(img.ID) {
		return fmt.Errorf("image id %q is not of the form ami-<8 to 17 hex digits>", img.ID)
	}
	if img.State == "" {
		img.State = ImageAvailable
	}
	s.region(scope).images[img.ID] = &img
	return nil
}

// ImageState returns the state of an image for a launch: an error coded
// InvalidAMIID.Malformed or InvalidAMIID.NotFound, as RunInstances
// answers, when the ID is malformed or names no image of the scope.
func (s *Service) ImageState(scope protocol.Scope, id string, now time.Time) (string, error) {
	if !amiID.MatchString(id) {
		return "", malformedAMI(id)
	}
	img, ok := s.region(scope).images[id]
	if !ok {
		return "", amiNotFound([]string{id})
	}
	return img.state(now), nil
}

func malformedAMI(id string) *protocol.Error {
	return protocol.Errorf("InvalidAMIID.Malformed", "Invalid id: %q (expecting \"ami-...\")", id)
}

func amiNotFound(ids []string) *protocol.Error {
	if len(ids) == 1 {
		return protocol.Errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", ids[0])
	}
	return protocol.Errorf("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
}

type xmlImage struct {
	ImageId            string `xml:"imageId"`
	Name               string `xml:"name"`
	Description        string `xml:"description,omitempty"`
	ImageState         string `xml:"imageState"`
	OwnerId            string `xml:"imageOwnerId"`
	CreationDate       string `xml:"creationDate"`
	Architecture       string `xml:"architecture"`
	ImageType          string `xml:"imageType"`
	RootDeviceType     string `xml:"rootDeviceType"`
	VirtualizationType string `xml:"virtualizationType"`
	Public             bool   `xml:"isPublic"`
}

func (img *Image) xml(c *protocol.Call) xmlImage {
	return xmlImage{ImageId: img.ID, Name: img.Name, Description: img.Description, ImageState: img.state(c.Now), OwnerId: c.Account,
		CreationDate: isoTime(img.Created), Architecture: "x86_64", ImageType: "machine", RootDeviceType: "ebs", VirtualizationType: "hvm"}
}

type registerImageResult struct {
	ImageId string `xml:"imageId"`
}

// registerImage creates an image, pending for 30s. Names are unique in
// an account and region, as on AWS.
func (s *Service) registerImage(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	name := f.String("Name")
	if len(name) < 3 || len(name) > 128 {
		return nil, protocol.Errorf("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long")
	}
	for _, img := range r.images {
		if img.Name == name {
			return nil, protocol.Errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, img.ID)
		}
	}
	s.ids++
	img := &Image{ID: fmt.Sprintf("ami-%017x", s.ids), Name: name, Description: f.String("Description"), State: ImagePending, Created: c.Now}
	r.images[img.ID] = img
	return &registerImageResult{ImageId: img.ID}, nil
}

func (s *Service) deregisterImage(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	id := f.String("ImageId")
	if !amiID.MatchString(id) {
		return nil, malformedAMI(id)
	}
	if _, ok := r.images[id]; !ok {
		return nil, amiNotFound([]string{id})
	}
	delete(r.images, id)
	return &returnResult{Return: true}, nil
}

type describeImagesResult struct {
	Images []xmlImage `xml:"imagesSet>item"`
}

// describeImages answers by ImageId.N (every id must be well formed and
// exist, as on AWS), Owner.N (self or the account's ID: the emulator
// holds no public or Amazon images) and filters image-id, name, state
// and owner-id, which leave out what does not match instead of failing.
func (s *Service) describeImages(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	ids := f.FlatStrings("ImageId")
	for _, id := range ids {
		if !amiID.MatchString(id) {
			return nil, malformedAMI(id)
		}
	}
	if missing := missingKeys(r.images, ids); len(missing) > 0 {
		return nil, amiNotFound(missing)
	}
	owners, filters := f.FlatStrings("Owner"), parseFilters(f)
	out := &describeImagesResult{}
	for _, id := range sortedKeys(r.images) {
		img := r.images[id]
		attrs := map[string]string{"image-id": id, "name": img.Name, "state": img.state(c.Now), "owner-id": c.Account}
		if (len(ids) == 0 || slices.Contains(ids, id)) && ownedBy(owners, c.Account) && filters.match(attrs) {
			out.Images = append(out.Images, img.xml(c))
		}
	}
	return out, nil
}

// ownedBy reports whether the account's images pass the Owner list.
func ownedBy(owners []string, account string) bool {
	return len(owners) == 0 || slices.Contains(owners, "self") || slices.Contains(owners, account)
}
