package precheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/jibe-dev/jibe/reconcile"
)

// MachineImageAPI is the part of EC2 Check calls for AMIs.
type MachineImageAPI interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// InstanceProfileAPI is the part of IAM Check calls for instance
// profiles. GetInstanceProfile returns the profile's role with its trust
// policy, so the role needs no call of its own.
type InstanceProfileAPI interface {
	GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
}

var (
	amiKind = kind{noun: "AMI", perm: "ec2:DescribeImages", missing: []string{"InvalidAMIID.NotFound", "InvalidAMIID.Malformed"},
		fix: "bake it in this region (or copy it here) or fix the image ID"}
	profileKind = kind{noun: "instance profile", perm: "iam:GetInstanceProfile", missing: []string{"NoSuchEntity"},
		fix: "create it (aws iam create-instance-profile) or fix the name", global: true}
)

// ec2Service is the principal a role of an instance profile must trust.
const ec2Service = "ec2.amazonaws.com"

// checkMachineImages describes every AMI in one call, filtering by id so
// that missing ones are left out instead of failing the call; an AMI
// that exists but is not available (pending, failed, deregistered) is a
// problem too, since instances of it do not launch.
func (c Clients) checkMachineImages(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	states := map[string]ec2types.ImageState{}
	answers, err := foundAmong(amiKind, ids(rs.MachineImages), func(want []string, token *string) ([]string, *string, error) {
		out, err := c.AMIs.DescribeImages(ctx, &ec2.DescribeImagesInput{NextToken: token,
			Filters: []ec2types.Filter{{Name: aws.String("image-id"), Values: want}}})
		if err != nil {
			return nil, nil, err
		}
		var found []string
		for _, img := range out.Images {
			found = append(found, aws.ToString(img.ImageId))
			states[aws.ToString(img.ImageId)] = img.State
		}
		return found, out.NextToken, nil
	})
	if err != nil {
		return nil, err
	}
	problems := amiKind.problems(sc, rs.MachineImages, answers)
	for _, r := range rs.MachineImages {
		if st, ok := states[r.ID]; ok && st != ec2types.ImageStateAvailable {
			problems = append(problems, reconcile.Problem{Field: r.Field, Message: fmt.Sprintf(
				"AMI %s is %s in region %s, and instances launch only from available AMIs: %s", r.ID, st, sc.Region, amiStateFix(st))})
		}
	}
	return problems, nil
}

// amiStateFix says what to do about an AMI in state st.
func amiStateFix(st ec2types.ImageState) string {
	if st == ec2types.ImageStatePending {
		return "wait until it is available, then deploy again"
	}
	return "bake it again or fix the image ID"
}

// checkInstanceProfiles gets each instance profile (IAM has no batch
// read): it must exist and hold a role that EC2 may assume.
func (c Clients) checkInstanceProfiles(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	var more []reconcile.Problem
	answers, err := eachID(ids(rs.InstanceProfiles), func(id string) (answer, error) {
		out, err := c.Profiles.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(ProfileName(id))})
		if err == nil && out.InstanceProfile != nil {
			more = append(more, profileRoleProblems(rs.InstanceProfiles, id, out.InstanceProfile.Roles)...)
		}
		return profileKind.answer(err)
	})
	if err != nil {
		return nil, err
	}
	return append(profileKind.problems(sc, rs.InstanceProfiles, answers), more...), nil
}

// profileRoleProblems returns, for every reference to profile id, a
// problem when it holds no role or a role that does not trust EC2.
func profileRoleProblems(refs []Ref, id string, roles []iamtypes.Role) []reconcile.Problem {
	var out []reconcile.Problem
	for _, r := range refs {
		if r.ID != id {
			continue
		}
		if len(roles) == 0 {
			out = append(out, reconcile.Problem{Field: r.Field, Message: fmt.Sprintf(
				"instance profile %s holds no role, so instances get no credentials: add one (aws iam add-role-to-instance-profile)", id)})
			continue
		}
		trust := []TrustRef{{Ref: Ref{Field: r.Field, ID: aws.ToString(roles[0].Arn)}, Service: ec2Service}}
		out = append(out, trustProblems(trust, map[string]string{aws.ToString(roles[0].Arn): aws.ToString(roles[0].AssumeRolePolicyDocument)})...)
	}
	return out
}

// ProfileName returns the name of an instance profile given by name or
// ARN (arn:aws:iam::1:instance-profile/path/web names "web").
func ProfileName(nameOrARN string) string {
	if !strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	return nameOrARN[strings.LastIndex(nameOrARN, "/")+1:]
}
