package awsemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/clock"
)

// control sends a control request and returns its status and body.
func control(t *testing.T, url, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url+awsemu.ControlPrefix+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestControlEndpointInjectsAndClearsFaults(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	if code, body := control(t, env.URL, http.MethodPost, "faults", `{"service": "ecs", "operation": "ListClusters", "kind": "Deny", "count": 1}`); code != http.StatusNoContent {
		t.Fatalf("POST faults: %d %s", code, body)
	}
	_, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	var denied *ecstypes.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Fatalf("ListClusters after a Deny fault: got %v, want AccessDeniedException", err)
	}
	need(c.ListClusters(ctx, &ecs.ListClustersInput{})).on(t) // count 1: used up

	control(t, env.URL, http.MethodPost, "faults", `{"service": "ecs", "kind": "ServerError"}`)
	if _, err := c.ListClusters(ctx, &ecs.ListClustersInput{}); err == nil {
		t.Fatal("ListClusters under a lasting ServerError fault succeeded")
	}
	if code, body := control(t, env.URL, http.MethodDelete, "faults", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE faults: %d %s", code, body)
	}
	need(c.ListClusters(ctx, &ecs.ListClustersInput{})).on(t)

	for _, body := range []string{`{"kind": "Meteor"}`, `{"kind": "Latency"}`, `{"kind": "Throttle", "delay": "soon"}`, `{"kind": "Throttle", "colour": "red"}`} {
		if code, msg := control(t, env.URL, http.MethodPost, "faults", body); code != http.StatusBadRequest {
			t.Errorf("POST faults %s: %d %s, want 400", body, code, msg)
		}
	}
}

func TestControlEndpointAdvancesEmulatedTime(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1),
		LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc()})).on(t)
	code, body := control(t, env.URL, http.MethodPost, "time/advance", `{"duration": "1m"}`)
	var now awsemu.TimeResponse
	if err := json.Unmarshal([]byte(body), &now); code != http.StatusOK || err != nil || !now.Now.Equal(clock.Epoch.Add(time.Minute)) {
		t.Fatalf("POST time/advance: %d %s, want 200 and now = %s", code, body, clock.Epoch.Add(time.Minute))
	}
	if s := describeService(t, ctx, c, "default", "app"); s.RunningCount != 1 {
		t.Errorf("a minute later the service runs %d tasks, want 1", s.RunningCount)
	}
	if code, body := control(t, env.URL, http.MethodGet, "time", ""); code != http.StatusOK || !strings.Contains(body, clock.Epoch.Add(time.Minute).Format(time.RFC3339)) {
		t.Errorf("GET time: %d %s", code, body)
	}
	for _, b := range []string{`{"duration": "-1m"}`, `{"duration": "later"}`} {
		if code, _ := control(t, env.URL, http.MethodPost, "time/advance", b); code != http.StatusBadRequest {
			t.Errorf("POST time/advance %s: %d, want 400", b, code)
		}
	}
}

func TestControlEndpointAnswersLoopbackOnly(t *testing.T) {
	emu := awsemu.New(awsemu.Options{})
	req := httptest.NewRequest(http.MethodPost, awsemu.ControlPrefix+"time/advance", strings.NewReader(`{"duration": "1h"}`))
	req.RemoteAddr = "192.0.2.7:40000"
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !emu.Now().Equal(clock.Epoch) {
		t.Errorf("control request from 192.0.2.7: %d, time moved to %s; want 403 and no change", rec.Code, emu.Now())
	}
}
