package dashboard

import (
	"slices"
	"testing"

	"github.com/jibe-dev/jibe/agent"
)

func envs(names ...string) []agent.EnvView {
	out := make([]agent.EnvView, len(names))
	for i, n := range names {
		out[i] = agent.EnvView{Name: n, Revision: "abc", State: "succeeded"}
	}
	return out
}

func TestColumnsKeepPromotionOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		apps [][]string
		want []string
	}{
		{"one app", [][]string{{"staging", "production"}}, []string{"staging", "production"}},
		{"a new first environment", [][]string{{"staging", "production"}, {"dev", "staging"}}, []string{"dev", "staging", "production"}},
		{"a new middle environment", [][]string{{"staging", "production"}, {"staging", "canary", "production"}}, []string{"staging", "canary", "production"}},
		{"a new last environment", [][]string{{"staging"}, {"staging", "production"}}, []string{"staging", "production"}},
		{"disjoint", [][]string{{"a"}, {"b"}}, []string{"b", "a"}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var views []agent.AppView
			for _, e := range tc.apps {
				views = append(views, agent.AppView{Environments: envs(e...)})
			}
			if got := columns(views); !slices.Equal(got, tc.want) {
				t.Errorf("columns = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	views := []agent.AppView{
		{ID: "shop/web", Name: "web", Source: "shop", Folder: "apps/web", Environments: []agent.EnvView{
			{Name: "staging", Revision: "a1", State: "succeeded"}, {Name: "production", Revision: "a1", State: "running", Step: "await-approval", Waiting: "an approval"}}},
		{ID: "shop/api", Name: "api", Source: "shop", Folder: "apps/api", Environments: []agent.EnvView{
			{Name: "staging", Revision: "b2", State: "rolled-back", Reason: "web did not become healthy"}}},
		{ID: "ops/web", Name: "web", Source: "ops", Folder: "web", Error: "invalid spec", Environments: []agent.EnvView{
			{Name: "staging", Revision: "c3", State: "succeeded", Drift: []string{"apps/v1 Deployment web"}}}},
	}
	for _, tc := range []struct {
		f    filter
		want []string
	}{
		{filter{}, []string{"shop/web", "shop/api", "ops/web"}},
		{filter{Source: "shop"}, []string{"shop/web", "shop/api"}},
		{filter{State: StateWaiting}, []string{"shop/web"}},
		{filter{State: StateRolledBack}, []string{"shop/api"}},
		{filter{State: StateDrift}, []string{"ops/web"}},
		{filter{State: StateError}, []string{"ops/web"}},
		{filter{Text: "WEB"}, []string{"shop/web", "ops/web"}},
		{filter{Text: "apps/"}, []string{"shop/web", "shop/api"}},
		{filter{Source: "ops", Text: "api"}, nil},
	} {
		m := buildMatrix(views, tc.f)
		var got []string
		for _, r := range m.Rows {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%+v: rows %q, want %q", tc.f, got, tc.want)
		}
		if m.Total != 3 || !slices.Equal(m.Sources, []string{"ops", "shop"}) {
			t.Errorf("%+v: total %d, sources %q", tc.f, m.Total, m.Sources)
		}
	}
}

func TestStateOf(t *testing.T) {
	for _, tc := range []struct {
		e    agent.EnvView
		want State
	}{
		{agent.EnvView{}, StatePending},
		{agent.EnvView{State: "pending", PendingOn: "staging"}, StatePending},
		{agent.EnvView{Revision: "a", State: "running"}, StateRunning},
		{agent.EnvView{Revision: "a", State: "running", Step: "await-approval", Waiting: "approval"}, StateWaiting},
		{agent.EnvView{Revision: "a", State: "running", Step: "verify", Waiting: "2 of 3 readings"}, StateRunning},
		{agent.EnvView{Revision: "a", State: "succeeded"}, StateSucceeded},
		{agent.EnvView{Revision: "a", State: "failed"}, StateFailed},
		{agent.EnvView{Revision: "a", State: "rolled-back"}, StateRolledBack},
		{agent.EnvView{Revision: "a", State: "superseded"}, StateSuperseded},
	} {
		if got := stateOf(&tc.e); got != tc.want {
			t.Errorf("stateOf(%+v) = %s, want %s", tc.e, got, tc.want)
		}
	}
}
