package precheck

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
)

// Account is the account a platform's clients act in, which decides what
// references a precheck can see: the ID the configuration gives, else
// what STS answers, asked once.
type Account struct {
	sts IdentityAPI
	// hints say what to fix for AWS error codes that stall (awserr).
	hints map[string]string

	mu sync.Mutex
	id string
}

// NewAccount returns the account of id, or, when id is empty, the one the
// credentials of api act in. Errors of GetCallerIdentity are classified
// with hints.
func NewAccount(api IdentityAPI, id string, hints map[string]string) *Account {
	return &Account{sts: api, id: id, hints: hints}
}

// ID returns the twelve-digit account ID.
func (a *Account) ID(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.id != "" {
		return a.id, nil
	}
	out, err := a.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", awserr.Classify(fmt.Errorf("get caller identity: %w", err), a.hints)
	}
	a.id = aws.ToString(out.Account)
	return a.id, nil
}

// Target checks the references of one target in region, found by refs in
// the account's scope, and names target in every problem.
func (a *Account) Target(ctx context.Context, c Clients, region, target string, refs func(Scope) *Refs) ([]reconcile.Problem, error) {
	id, err := a.ID(ctx)
	if err != nil {
		return nil, err
	}
	sc := Scope{Account: id, Region: region}
	problems, err := Check(ctx, c, sc, refs(sc))
	if err != nil {
		return nil, err
	}
	for i := range problems {
		problems[i].Target = target
	}
	return problems, nil
}
