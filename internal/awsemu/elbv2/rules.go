package elbv2

import (
	"sort"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Request describes the requests SendRequests routes through listener
// rules.
type Request struct {
	// Host is the Host header, matched by host-header conditions.
	Host string
	// Path is the request path, matched by path-pattern conditions.
	Path string
	// Headers are matched by http-header conditions.
	Headers map[string]string
}

// actionsFor returns the actions of the highest-priority rule whose
// conditions all match req, or the listener's default actions. Conditions
// other than host-header, path-pattern and http-header never match.
func (r *region) actionsFor(l *listener, req Request) *protocol.Node {
	rules := make([]*rule, 0, len(l.rules))
	for _, ra := range l.rules {
		rules = append(rules, r.rules[ra])
	}
	sort.Slice(rules, func(i, j int) bool { return priority(rules[i]) < priority(rules[j]) })
	for _, ru := range rules {
		if matchesAll(ru.conditions, req) {
			return ru.actions
		}
	}
	return l.actions
}

func priority(ru *rule) int {
	n, _ := strconv.Atoi(ru.priority)
	return n
}

func matchesAll(conds *protocol.Node, req Request) bool {
	if conds == nil {
		return false
	}
	for _, c := range conds.Items {
		if !matches(c, req) {
			return false
		}
	}
	return true
}

// matches evaluates one condition: any of its values may match.
func matches(c *protocol.Node, req Request) bool {
	switch c.String("Field") {
	case "host-header":
		return anyGlob(conditionValues(c, "HostHeaderConfig"), strings.ToLower(req.Host), true)
	case "path-pattern":
		return anyGlob(conditionValues(c, "PathPatternConfig"), req.Path, false)
	case "http-header":
		cfg := c.Get("HttpHeaderConfig")
		name := cfg.String("HttpHeaderName")
		return anyGlob(itemValues(cfg.Get("Values")), req.Headers[name], true)
	default:
		return false
	}
}

// conditionValues returns a condition's values from its typed config or
// its legacy Values list.
func conditionValues(c *protocol.Node, config string) []string {
	if v := itemValues(c.Get(config).Get("Values")); len(v) > 0 {
		return v
	}
	return itemValues(c.Get("Values"))
}

func itemValues(n *protocol.Node) []string {
	if n == nil {
		return nil
	}
	out := make([]string, 0, len(n.Items))
	for _, it := range n.Items {
		out = append(out, it.Value)
	}
	return out
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if glob(p, s) {
			return true
		}
	}
	return false
}

// glob matches ALB wildcards: * is any run of characters (slashes
// included), ? is one character.
func glob(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := 0; i <= len(s); i++ {
				if glob(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}

// maxConditionValues is how many condition values a rule may hold, counted
// across its conditions.
const maxConditionValues = 5

// conditionConfigs name the typed configuration of each condition field.
var conditionConfigs = map[string]string{
	"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig", "http-header": "HttpHeaderConfig",
	"http-request-method": "HttpRequestMethodConfig", "query-string": "QueryStringConfig", "source-ip": "SourceIpConfig",
}

// checkConditionValues refuses a rule with more than maxConditionValues
// condition values, as ALB does.
func checkConditionValues(conds *protocol.Node) error {
	n := 0
	for _, c := range conds.Items {
		values := c.Get(conditionConfigs[c.String("Field")]).Get("Values")
		if values == nil || len(values.Items) == 0 {
			values = c.Get("Values")
		}
		if values != nil {
			n += len(values.Items)
		}
	}
	if n > maxConditionValues {
		return validation("A rule can only have '%d' condition values", maxConditionValues)
	}
	return nil
}
