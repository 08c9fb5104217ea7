package precheck

import (
	"context"
	"testing"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// TestCheckMachineImagesInOneCall: every AMI is looked up in one
// DescribeImages call; only the missing one is a problem, at its field.
func TestCheckMachineImagesInOneCall(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{})
	env.AddImages(t, "ami-0000000a", "ami-0000000b")
	sc := Scope{Account: awsemutest.Account, Region: awsemutest.Region}
	rs := &Refs{MachineImages: []Ref{{Field: "a", ID: "ami-0000000a"}, {Field: "b", ID: "ami-0000000b"}, {Field: "c", ID: "ami-0000000c"}}}
	env.Emu.ResetRequests()
	problems, err := Check(context.Background(), Clients{AMIs: env.EC2()}, sc, rs)
	if err != nil || len(problems) != 1 || problems[0].Field != "c" {
		t.Fatalf("%v %+v", err, problems)
	}
	calls := 0
	for _, r := range env.Emu.Requests() {
		if r.Operation == "DescribeImages" {
			calls++
		}
	}
	if calls != 1 {
		t.Errorf("%d DescribeImages calls, want 1", calls)
	}
}
