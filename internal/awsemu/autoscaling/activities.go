package autoscaling

import (
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// launchRetry is how long a group waits after a failed launch before it
// tries again (AWS backs off too).
const launchRetry = 10 * time.Second

// activity is one scaling activity of a group, newest first in
// group.activities.
type activity struct {
	id, description, cause, status, message string
	start, end                              time.Time
}

// maxActivities is how many activities a group keeps.
const maxActivities = 100

// record adds an activity to the group.
func (s *Service) record(g *group, a activity) {
	a.id = s.newID("activity-")
	g.activities = append([]activity{a}, g.activities...)
	if len(g.activities) > maxActivities {
		g.activities = g.activities[:maxActivities]
	}
}

// launchable returns nil when instances of the image can launch, else the
// reason EC2 refuses them: a malformed or unknown AMI, or one not
// available (pending, failed).
func (s *Service) launchable(r *region, image string, now time.Time) error {
	if s.cfg.Images == nil {
		return nil
	}
	state, err := s.cfg.Images.ImageState(r.scope, image, now)
	if err != nil {
		return err
	}
	if state != "available" {
		return fmt.Errorf("The image id '[%s]' is not available (state %s)", image, state)
	}
	return nil
}

// launchFailed records a failed launch and holds launches for a while.
func (s *Service) launchFailed(g *group, err error, now time.Time) {
	msg := err.Error()
	if pe, ok := err.(*protocol.Error); ok {
		msg = pe.Message
	}
	g.launchAfter = now.Add(launchRetry)
	s.record(g, activity{description: "Launching a new EC2 instance.  Status Reason: " + msg + ". Launching EC2 instance failed.",
		cause:  fmt.Sprintf("At %s an instance was started in response to a difference between desired and actual capacity.", isoTime(now)),
		status: "Failed", message: msg + ". Launching EC2 instance failed.", start: now, end: now})
}

type xmlActivity struct {
	ActivityId           string
	AutoScalingGroupName string
	Description          string
	Cause                string
	StartTime            string
	EndTime              string `xml:",omitempty"`
	StatusCode           string
	StatusMessage        string `xml:",omitempty"`
	Progress             int
}

type activitiesResult struct {
	Activities []xmlActivity `xml:"Activities>member"`
	NextToken  string        `xml:",omitempty"`
}

// describeScalingActivities lists a group's activities, newest first.
func (s *Service) describeScalingActivities(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	max, _ := f.Int("MaxRecords")
	start, end, next, err := protocol.Page(len(g.activities), f.String("NextToken"), max, 100)
	if err != nil {
		return nil, protocol.Errorf("InvalidNextToken", "invalid NextToken")
	}
	out := &activitiesResult{NextToken: next}
	for _, a := range g.activities[start:end] {
		x := xmlActivity{ActivityId: a.id, AutoScalingGroupName: g.name, Description: a.description, Cause: a.cause, StartTime: isoTime(a.start),
			StatusCode: a.status, StatusMessage: a.message, Progress: 100}
		if !a.end.IsZero() {
			x.EndTime = isoTime(a.end)
		}
		out.Activities = append(out.Activities, x)
	}
	return out, nil
}
