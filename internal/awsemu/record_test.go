package awsemu

import "testing"

func TestIsWrite(t *testing.T) {
	for op, want := range map[string]bool{
		"DescribeServices": false, "ListTasks": false, "GetFunction": false, "BatchGetImage": false, "HeadObject": false,
		"DiscoverInstances": false, "AssumeRole": false, "GetCallerIdentity": false,
		"UpdateService": true, "RegisterTargets": true, "Invoke": true, "PutMetricData": true, "CreateTaskSet": true,
	} {
		if got := IsWrite(op); got != want {
			t.Errorf("IsWrite(%s) = %v, want %v", op, got, want)
		}
	}
}
