package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	awselbv2 "github.com/jibe-dev/jibe/internal/awsemu/elbv2"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/reconcile"
)

// quote-service is where /api/quote moves once it outgrows Lambda
// (examples/demo/quote-service): an ECS service in production whose
// traffic is quote's listener rule. Its first rolling deploy takes the
// rule over from quote's target group of type lambda once its tasks are
// healthy; quote then leaves Git and, with the source's prune on, the
// agent deletes the function.
const (
	quoteServiceName    = "quote-service"
	quoteServiceStatus  = "jibe/quote-service/production"
	quoteServiceRepo    = "quote"
	quoteServiceVersion = "2.0.0"
	// quoteServiceTG names the target group of the service's tasks (the
	// stable one of its pair; quote-green is the other).
	quoteServiceTG = "quote-blue"
	// moveDeadline bounds the move in real time: tasks start in 15s and
	// pass ALB health checks in 10s more.
	moveDeadline = 120 * time.Second
)

// setupQuoteService creates what quote-service needs in production: its
// execution role, an IP target group pair, whose ARNs and the listener
// rule's (ruleArn) become its variables, and a preview rule forwarding
// requests of /api/quote with the header X-Quote-Backend: ecs to the pair
// (ECS registers a service only in target groups that a load balancer
// uses, and the team can try the service there before it takes the path).
func (e *Env) setupQuoteService(ctx context.Context, ruleArn string) error {
	a := e.production()
	c := a.clients(e.AWSURL)
	if _, err := c.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("quote-execution"),
		AssumeRolePolicyDocument: aws.String(ecsTasksTrust)}); err != nil {
		return fmt.Errorf("%s: creating quote-service's execution role: %w", a.Name, err)
	}
	blue, err := targetGroup(ctx, c.ELBv2(), quoteServiceTG)
	if err != nil {
		return fmt.Errorf("%s: %w", a.Name, err)
	}
	green, err := targetGroup(ctx, c.ELBv2(), "quote-green")
	if err != nil {
		return fmt.Errorf("%s: %w", a.Name, err)
	}
	_, err = c.ELBv2().CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(a.Listener), Priority: aws.Int32(5),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{quotePath + "*"}},
			{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{
				HttpHeaderName: aws.String("X-Quote-Backend"), Values: []string{"ecs"}}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blue), Weight: aws.Int32(100)},
				{TargetGroupArn: aws.String(green), Weight: aws.Int32(0)}}}}}})
	if err != nil {
		return fmt.Errorf("%s: creating quote-service's preview rule: %w", a.Name, err)
	}
	e.quoteVars = map[string]string{"accountId": a.ID, "cluster": a.Vars["cluster"], "subnets": a.Vars["subnets"],
		"securityGroup": a.Vars["securityGroup"], "quoteRuleArn": ruleArn,
		"quoteBlueTargetGroupArn": blue, "quoteGreenTargetGroupArn": green}
	return nil
}

// quoteServiceFiles returns examples/demo/quote-service's files by path,
// with production's variables pointing at what setupQuoteService created.
func (e *Env) quoteServiceFiles() (map[string]string, error) {
	files, err := exampleFiles(quoteServiceName)
	if err != nil {
		return nil, err
	}
	specFile := quoteServiceName + "/jibe.yaml"
	spec, err := editSpec(files[specFile], specEdit{Vars: map[string]map[string]string{"production": e.quoteVars}})
	files[specFile] = spec
	return files, err
}

// moveSteps are the move of /api/quote from the function to ECS.
func (s *story) moveSteps() []Step {
	return []Step{
		{Title: "dana moves " + quotePath + " to ECS: quote-service's tasks start, and its rolling deploy takes the listener rule over from the function once they are healthy",
			Do:       s.addQuoteService,
			Deadline: moveDeadline,
			Expect: []Expectation{
				s.moveStatus("move", quoteServiceStatus, githubemu.StatusSuccess, ""),
				s.env.quoteServed(),
				s.env.quoteNo5xx(),
			}},
		{Title: "dana removes quote from Git: with the source's prune on, the agent deletes the function; " + quotePath + " keeps answering from ECS",
			Do: s.removeQuote,
			Expect: []Expectation{
				s.moveStatus("quote-remove", quoteStatus, githubemu.StatusSuccess, "deleted"),
				s.env.quoteFunctionGone(),
				s.env.quoteServed(),
				s.env.quoteNo5xx(),
			}},
	}
}

// addQuoteService commits quote-service and starts counting what
// /api/quote answers.
func (s *story) addQuoteService(ctx context.Context) error {
	files, err := s.env.quoteServiceFiles()
	if err != nil {
		return err
	}
	s.env.quoteTraffic.reset()
	return s.push(ctx, "move", "dana", gitserver.Commit{Message: "Move /api/quote to ECS: add quote-service", Files: files})
}

// removeQuote commits the removal of quote's folder.
func (s *story) removeQuote(ctx context.Context) error {
	files, err := s.env.quoteFiles(ctx)
	if err != nil {
		return err
	}
	del := make([]string, 0, len(files))
	for p := range files {
		del = append(del, p)
	}
	sha, err := s.commit(gitserver.Commit{Message: "Remove quote: /api/quote is served by quote-service", Author: person("dana"), Delete: del})
	if err != nil {
		return err
	}
	s.track("quote-remove", sha)
	s.out.printf("  dana pushes %s to main: %q", reconcile.ShortRevision(sha), "Remove quote: /api/quote is served by quote-service")
	return s.env.GitHub.Push(ctx, repoName, githubemu.Push{Branch: gitserver.DefaultBranch, After: sha, Pusher: "dana",
		Commits: []githubemu.PushCommit{{SHA: sha, Message: "Remove quote", Author: "dana", Removed: del}}})
}

// moveStatus expects a status of context on the commit named name.
func (s *story) moveStatus(name, statusContext string, state githubemu.StatusState, text string) Expectation {
	exp := Expectation{What: fmt.Sprintf("%s %s on dana's commit", statusContext, state)}
	if text != "" {
		exp.What += fmt.Sprintf(" naming %q", text)
	}
	exp.Check = func(ctx context.Context) (bool, string) {
		if s.commits[name] == "" {
			return false, "no commit yet"
		}
		return s.env.statusSeen(s.commits[name], statusContext, state, text).Check(ctx)
	}
	return exp
}

// quoteServed expects requests to /api/quote to be answered by
// quote-service's tasks, without a 5xx.
func (e *Env) quoteServed() Expectation {
	const n = 10
	return Expectation{What: fmt.Sprintf("%d requests to %s answered by quote-service's tasks (target group %s), no 5xx", n, quotePath, quoteServiceTG),
		Check: func(context.Context) (bool, string) {
			res, err := e.AWS.SendRequests(e.production().Listener, awselbv2.Request{Path: quotePath}, n)
			if err != nil {
				return false, err.Error()
			}
			return res.ByTargetGroup[e.quoteVars["quoteBlueTargetGroupArn"]].OK == n, res.String()
		}}
}

// quoteNo5xx expects every request /api/quote received since the move
// began to have been answered without a 5xx.
func (e *Env) quoteNo5xx() Expectation {
	return Expectation{What: "no 5xx on " + quotePath + " since the move began",
		Check: func(context.Context) (bool, string) {
			sent, failed := e.quoteTraffic.get()
			return sent > 0 && failed == 0, fmt.Sprintf("%d requests, %d answered 5xx", sent, failed)
		}}
}

// quoteFunctionGone expects the function quote to be deleted.
func (e *Env) quoteFunctionGone() Expectation {
	return Expectation{What: "the function quote is deleted", Check: func(ctx context.Context) (bool, string) {
		_, err := e.production().clients(e.AWSURL).Lambda().GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(quoteName)})
		if err == nil {
			return false, "the function quote still exists"
		}
		var gone *lambdatypes.ResourceNotFoundException
		return errors.As(err, &gone), err.Error()
	}}
}

// trafficCount counts requests and their 5xx answers.
type trafficCount struct {
	mu           sync.Mutex
	sent, failed int
}

func (c *trafficCount) add(res awselbv2.TrafficResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent += res.Requests
	c.failed += res.Target5xx + res.ELB5xx
}

func (c *trafficCount) get() (sent, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.failed
}

func (c *trafficCount) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent, c.failed = 0, 0
}
