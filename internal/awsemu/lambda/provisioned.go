package lambda

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// provisionTime is how long Lambda takes to allocate a provisioned
// concurrency configuration (IN_PROGRESS → READY); executions are
// allocated evenly over it.
const provisionTime = 30 * time.Second

// provisioned is a provisioned concurrency configuration of one
// qualifier.
type provisioned struct {
	requested int32
	since     time.Time // when it was last put
	modified  string
}

// provisionedView is a configuration as Lambda reports it at now: the
// executions allocated so far, FAILED when the version's initialisation
// fails (a broken artifact).
func (s *Service) provisionedView(fn *function, q string, pc *provisioned, now time.Time) types.ProvisionedConcurrencyConfigListItem {
	out := types.ProvisionedConcurrencyConfigListItem{FunctionArn: aws.String(fn.qualified(q)), RequestedProvisionedConcurrentExecutions: aws.Int32(pc.requested),
		LastModified: aws.String(pc.modified), Status: types.ProvisionedConcurrencyStatusEnumInProgress, AllocatedProvisionedConcurrentExecutions: aws.Int32(0),
		AvailableProvisionedConcurrentExecutions: aws.Int32(0)}
	if s.initFails(fn, q) {
		out.Status, out.StatusReason = types.ProvisionedConcurrencyStatusEnumFailed, aws.String("FUNCTION_ERROR_INIT_FAILURE: the function's initialisation failed")
		return out
	}
	elapsed := now.Sub(pc.since)
	allocated := pc.requested
	if elapsed < provisionTime {
		allocated = int32(int64(pc.requested) * int64(elapsed) / int64(provisionTime))
	} else {
		out.Status = types.ProvisionedConcurrencyStatusEnumReady
	}
	out.AllocatedProvisionedConcurrentExecutions, out.AvailableProvisionedConcurrentExecutions = aws.Int32(allocated), aws.Int32(allocated)
	return out
}

// initFails reports whether the version behind q is broken, so that its
// execution environments fail to initialise.
func (s *Service) initFails(fn *function, q string) bool {
	if s.cfg.Artifacts == nil {
		return false
	}
	v := q
	if a, ok := fn.aliases[q]; ok {
		v = aws.ToString(a.FunctionVersion)
	}
	return s.cfg.Artifacts.FunctionVersion(fn.name, v).Broken
}

// provisionedQualifier checks that q can carry provisioned concurrency:
// a published version or an alias of one, not $LATEST.
func provisionedQualifier(fn *function, q string) error {
	if q == "" || q == latest {
		return invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	}
	if a, ok := fn.aliases[q]; ok && aws.ToString(a.FunctionVersion) == latest {
		return invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	}
	if _, err := fn.resolve(q); err != nil {
		return err
	}
	return nil
}

func (s *Service) putProvisioned(r *region, c *protocol.Call) (any, error) {
	var in lambda.PutProvisionedConcurrencyConfigInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if err := provisionedQualifier(fn, q); err != nil {
		return nil, err
	}
	n := aws.ToInt32(in.ProvisionedConcurrentExecutions)
	if n < 1 {
		return nil, constraint(fmt.Sprint(n), "provisionedConcurrentExecutions", "Member must have value greater than or equal to 1")
	}
	if err := r.checkProvisionedRoom(fn, q, n); err != nil {
		return nil, err
	}
	if fn.provisioned == nil {
		fn.provisioned = map[string]*provisioned{}
	}
	pc := &provisioned{requested: n, since: c.Now, modified: c.Now.UTC().Format("2006-01-02T15:04:05.000+0000")}
	fn.provisioned[q] = pc
	v := s.provisionedView(fn, q, pc, c.Now)
	out := &lambda.PutProvisionedConcurrencyConfigOutput{}
	_ = protocol.Copy(&v, out, "FunctionArn")
	return &protocol.RESTResponse{Status: http.StatusAccepted, Body: out}, nil
}

// checkProvisionedRoom refuses n executions on fn's qualifier q when they
// exceed the function's reserved concurrency, or when the account's
// reservations (each function's reserved concurrency, or its provisioned
// executions when it has none; q's current configuration aside) would
// leave less than the 100 unreserved executions AWS keeps.
func (r *region) checkProvisionedRoom(fn *function, q string, n int32) error {
	var others int32
	for _, f := range r.functions {
		if f != fn {
			others += f.concurrencyInUse()
		}
	}
	own := fn.provisionedSum(q) + n
	if fn.reserved != nil {
		if own > *fn.reserved {
			return invalid("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
		}
		own = *fn.reserved
	}
	if others+own > maxReserved {
		return invalid("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [%d].", max(maxReserved-others, 0))
	}
	return nil
}

// concurrencyInUse is what fn takes from the account's concurrency: its
// reserved concurrency, else its provisioned executions.
func (fn *function) concurrencyInUse() int32 {
	if fn.reserved != nil {
		return *fn.reserved
	}
	return fn.provisionedSum("")
}

// provisionedSum is the executions provisioned on fn's qualifiers but
// skip.
func (fn *function) provisionedSum(skip string) int32 {
	var n int32
	for q, pc := range fn.provisioned {
		if q != skip {
			n += pc.requested
		}
	}
	return n
}

func (s *Service) getProvisioned(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	pc, ok := fn.provisioned[q]
	if !ok {
		if err := provisionedQualifier(fn, q); err != nil {
			return nil, err
		}
		return nil, protocol.StatusErrorf(http.StatusNotFound, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
	}
	v := s.provisionedView(fn, q, pc, c.Now)
	out := &lambda.GetProvisionedConcurrencyConfigOutput{}
	_ = protocol.Copy(&v, out, "FunctionArn")
	return out, nil
}

func (s *Service) deleteProvisioned(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if err := provisionedQualifier(fn, q); err != nil {
		return nil, err
	}
	delete(fn.provisioned, q)
	return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
}

func (s *Service) listProvisioned(r *region, c *protocol.Call) (any, error) {
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	qs := make([]string, 0, len(fn.provisioned))
	for q := range fn.provisioned {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool {
		a, aerr := strconv.Atoi(qs[i])
		b, berr := strconv.Atoi(qs[j])
		if aerr == nil && berr == nil {
			return a < b
		}
		return qs[i] < qs[j]
	})
	start, end, next, err := pageQuery(c, len(qs))
	if err != nil {
		return nil, err
	}
	out := &lambda.ListProvisionedConcurrencyConfigsOutput{NextMarker: optString(next)}
	for _, q := range qs[start:end] {
		out.ProvisionedConcurrencyConfigs = append(out.ProvisionedConcurrencyConfigs, s.provisionedView(fn, q, fn.provisioned[q], c.Now))
	}
	return out, nil
}
