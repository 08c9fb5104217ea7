package promemu_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/jibe-dev/jibe/internal/promemu"
)

func TestQueriesThroughTheOfficialClient(t *testing.T) {
	prom := promemu.New()
	srv := httptest.NewServer(prom)
	defer srv.Close()
	client, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	papi := v1.NewAPI(client)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)

	prom.Set("up", promemu.Vector(promemu.Sample{Labels: map[string]string{"job": "api"}, Value: 1}))
	prom.Set("scalar(up)", promemu.Result{Warnings: []string{"partial"}}) // empty vector with a warning
	prom.Set("vector(2)", promemu.Scalar(2))
	prom.Set("up{", promemu.Error(http.StatusBadRequest, "bad_data", `1:4: parse error: unexpected end of input`))

	v, _, _, err := papi.Query(ctx, "up", at)
	vec, ok := v.(model.Vector)
	if err != nil || !ok || len(vec) != 1 || vec[0].Value != 1 || vec[0].Metric["job"] != "api" || !vec[0].Timestamp.Time().Equal(at) {
		t.Errorf("up = %v, %v", v, err)
	}
	v, warnings, _, err := papi.Query(ctx, "scalar(up)", at)
	if vec, ok := v.(model.Vector); err != nil || !ok || len(vec) != 0 || len(warnings) != 1 {
		t.Errorf("empty vector = %v, %v, %v", v, warnings, err)
	}
	v, _, _, err = papi.Query(ctx, "vector(2)", at)
	if s, ok := v.(*model.Scalar); err != nil || !ok || s.Value != 2 {
		t.Errorf("scalar = %v, %v", v, err)
	}
	_, _, _, err = papi.Query(ctx, "up{", at)
	var perr *v1.Error
	if !errors.As(err, &perr) || perr.Type != v1.ErrBadData || !strings.Contains(perr.Msg, "parse error") {
		t.Errorf("bad query: %v", err)
	}

	prom.RequireBearerToken("s3cret")
	if _, _, _, err = papi.Query(ctx, "up", at); err == nil {
		t.Error("query without the token was answered")
	}
	got := prom.Queries()
	if len(got) != 5 || got[0].Method != http.MethodPost || got[0].Query != "up" || !got[0].Time.Equal(at) {
		t.Errorf("received %+v", got)
	}
}
