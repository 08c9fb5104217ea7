package demo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	awselbv2 "github.com/jibe-dev/jibe/internal/awsemu/elbv2"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// quote is the demo's Lambda application (examples/demo/quote): a
// function zipped from its folder, answering /api/quote behind
// production's load balancer, released with a Lambda canary.
const (
	quoteName    = "quote"
	quotePath    = "/api/quote"
	quoteSource  = quoteName + "/src/app.py"
	quoteStatus  = "jibe/quote/production"
	quoteTGName  = "quote"
	quoteVersion = `VERSION = "1.0.0"`
	// quotePerSecond is how many requests /api/quote receives per second,
	// so that the canary's analysis has invocations to measure.
	quotePerSecond = 20
)

// setupQuote creates what quote needs in production: its execution role,
// a target group of type lambda and a listener rule sending /api/quote*
// to it. The function itself is the agent's to create.
func (e *Env) setupQuote(ctx context.Context) error {
	a := e.production()
	c := a.clients(e.AWSURL)
	if _, err := c.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("quote-exec"),
		AssumeRolePolicyDocument: aws.String(lambdaTrust)}); err != nil {
		return fmt.Errorf("%s: creating quote's execution role: %w", a.Name, err)
	}
	tg, err := c.ELBv2().CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(quoteTGName), TargetType: elbtypes.TargetTypeEnumLambda})
	if err != nil {
		return fmt.Errorf("%s: creating quote's target group: %w", a.Name, err)
	}
	rule, err := c.ELBv2().CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(a.Listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{quotePath + "*"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}})
	if err != nil {
		return fmt.Errorf("%s: creating the listener rule of %s: %w", a.Name, quotePath, err)
	}
	return e.setupQuoteService(ctx, aws.ToString(rule.Rules[0].RuleArn))
}

const lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
	`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// production returns the production account.
func (e *Env) production() *account {
	for _, a := range e.Accounts {
		if a.Name == "production" {
			return a
		}
	}
	return e.Accounts[len(e.Accounts)-1]
}

// sendQuoteTraffic sends a second's requests to /api/quote, counting
// what they were answered.
func (e *Env) sendQuoteTraffic() {
	res, err := e.AWS.SendRequests(e.production().Listener, awselbv2.Request{Path: quotePath}, quotePerSecond)
	if err == nil {
		e.quoteTraffic.add(res)
	}
}

// quoteFiles returns examples/demo/quote's files by path, with
// production's variables pointing at what setupQuote created.
func (e *Env) quoteFiles(ctx context.Context) (map[string]string, error) {
	files, err := exampleFiles(quoteName)
	if err != nil {
		return nil, err
	}
	tgs, err := e.production().clients(e.AWSURL).ELBv2().DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{quoteTGName}})
	if err != nil {
		return nil, fmt.Errorf("finding quote's target group: %w", err)
	}
	vars := map[string]map[string]string{"production": {"quoteTargetGroupArn": aws.ToString(tgs.TargetGroups[0].TargetGroupArn)}}
	spec, err := editSpec(files[quoteName+"/jibe.yaml"], specEdit{Vars: vars})
	files[quoteName+"/jibe.yaml"] = spec
	return files, err
}

// quoteSteps are quote's part of the story: the function first, behind
// the load balancer, then a release through a Lambda canary, then the
// path's move to ECS (moveSteps).
func (s *story) quoteSteps() []Step {
	return append([]Step{
		{Title: "dana adds quote 1.0.0, a Lambda function zipped from its folder, behind production's load balancer at " + quotePath,
			Do: s.addQuote,
			Expect: []Expectation{
				s.quoteStatus("quote-add", githubemu.StatusSuccess),
				s.quoteAlias("alias live on version 1 alone", "1", ""),
				s.env.quoteAnswers(),
			}},
		{Title: "dana ships quote 1.1.0 (one line of src/app.py): a Lambda canary moves 20% of the alias to version 2, CloudWatch analysis of version 2's errors passes, the alias moves to it",
			Do:       s.releaseQuote,
			Deadline: canaryDeadline,
			Expect: []Expectation{
				s.quoteAlias("alias live on version 1 with 20% on version 2", "1", "2=20%"),
				s.quoteStatus("quote-release", githubemu.StatusSuccess),
				s.quoteAlias("alias live on version 2 alone", "2", ""),
				s.env.quoteAnswers(),
			}},
	}, s.moveSteps()...)
}

// addQuote commits quote as examples/demo has it.
func (s *story) addQuote(ctx context.Context) error {
	files, err := s.env.quoteFiles(ctx)
	if err != nil {
		return err
	}
	return s.push(ctx, "quote-add", "dana", gitserver.Commit{Message: "Add quote 1.0.0: shipping quotes as a Lambda function", Files: files})
}

// releaseQuote commits quote 1.1.0: one line of its source.
func (s *story) releaseQuote(ctx context.Context) error {
	files, err := s.env.quoteFiles(ctx)
	if err != nil {
		return err
	}
	src := files[quoteSource]
	if !strings.Contains(src, quoteVersion) {
		return fmt.Errorf("%s has no line %s", quoteSource, quoteVersion)
	}
	changed := map[string]string{quoteSource: strings.Replace(src, quoteVersion, `VERSION = "1.1.0"`, 1)}
	return s.push(ctx, "quote-release", "dana", gitserver.Commit{Message: "Release quote 1.1.0", Files: changed})
}

// quoteStatus expects quote's production status on the commit named name.
func (s *story) quoteStatus(name string, state githubemu.StatusState) Expectation {
	exp := Expectation{What: fmt.Sprintf("%s %s on dana's commit", quoteStatus, state)}
	exp.Check = func(ctx context.Context) (bool, string) {
		if s.commits[name] == "" {
			return false, "no commit yet"
		}
		return s.env.statusSeen(s.commits[name], quoteStatus, state, "").Check(ctx)
	}
	return exp
}

// quoteAlias expects alias live of quote on version with the extra
// weights described as "2=20%" ("" for none).
func (s *story) quoteAlias(what, version, weights string) Expectation {
	want := "version " + version + ", weights [" + weights + "]"
	return Expectation{What: what, Check: func(ctx context.Context) (bool, string) {
		out, err := s.env.production().clients(s.env.AWSURL).Lambda().GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(quoteName), Name: aws.String("live")})
		if err != nil {
			return false, err.Error()
		}
		var ws []string
		if rc := out.RoutingConfig; rc != nil {
			for _, v := range slices.Sorted(maps.Keys(rc.AdditionalVersionWeights)) {
				ws = append(ws, fmt.Sprintf("%s=%.0f%%", v, 100*rc.AdditionalVersionWeights[v]))
			}
		}
		seen := "version " + aws.ToString(out.FunctionVersion) + ", weights [" + strings.Join(ws, " ") + "]"
		return seen == want, seen
	}}
}

// quoteAnswers expects requests to /api/quote through the load balancer
// to be answered by the function, without a 5xx.
func (e *Env) quoteAnswers() Expectation {
	const n = 10
	return Expectation{What: fmt.Sprintf("%d requests to %s through the load balancer answered by the function, no 5xx", n, quotePath),
		Check: func(context.Context) (bool, string) {
			res, err := e.AWS.SendRequests(e.production().Listener, awselbv2.Request{Path: quotePath}, n)
			if err != nil {
				return false, err.Error()
			}
			return res.Requests == n && res.OK == n, res.String()
		}}
}
