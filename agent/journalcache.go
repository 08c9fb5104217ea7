package agent

import (
	"strings"
	"sync"

	"github.com/jibe-dev/jibe/reconcile"
)

// envRecord is what the journal holds of one environment: its latest
// rollout and its latest succeeded one (nil for none).
type envRecord struct {
	current, stable *reconcile.Rollout
}

// rolloutCache keeps the journal's record of each environment for the
// views, so that listing 1,000 applications does not decode thousands of
// journaled rollouts. An environment's record is read again after any
// event of it and after every reconcile of its application (every
// journal write of this agent happens in one), so the views are never
// older than the last event. The records of an application another
// agent writes (see Agent.trusted) are not cached: they are read afresh,
// from the journal's store, which follows every writer.
type rolloutCache struct {
	mu   sync.Mutex
	envs map[string]envRecord // by source/app/env
	// live is the journal's running rollouts when first asked: those
	// of environments the agent may not have loaded yet after a restart.
	live []*reconcile.Rollout
	init bool
}

// get returns env's record, read from j when not cached; cache says
// whether it may be cached.
func (c *rolloutCache) get(j *reconcile.Journal, app reconcile.AppID, env string, cache bool) envRecord {
	key := driftKey(app, env)
	c.mu.Lock()
	rec, ok := c.envs[key]
	c.mu.Unlock()
	if ok && cache {
		return rec
	}
	rec = envRecord{}
	if r, err := j.Current(app, env); err == nil {
		rec.current = r
	}
	if r, err := j.Stable(app, env); err == nil {
		rec.stable = r
	}
	if !cache {
		return rec
	}
	c.mu.Lock()
	if c.envs == nil {
		c.envs = map[string]envRecord{}
	}
	c.envs[key] = rec
	c.mu.Unlock()
	return rec
}

// running returns the rollouts the journal held as running when first
// asked, when cache is set (rollouts started since are of environments
// the agent has loaded); the journal's running rollouts now otherwise,
// for an agent that shares its journal with others.
func (c *rolloutCache) running(j *reconcile.Journal, cache bool) []*reconcile.Rollout {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.init || !cache {
		if rs, err := j.Running(); err == nil {
			c.live, c.init = rs, true
		}
	}
	return c.live
}

// forget drops the records of app's envs, to be read again at the next
// view.
func (c *rolloutCache) forget(app reconcile.AppID, envs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, env := range envs {
		delete(c.envs, driftKey(app, env))
	}
}

// forgetApp drops the records of every environment of app.
func (c *rolloutCache) forgetApp(app reconcile.AppID) {
	prefix := app.String() + "/"
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.envs {
		if strings.HasPrefix(key, prefix) {
			delete(c.envs, key)
		}
	}
}

// forgetAll drops every record.
func (c *rolloutCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.envs)
	c.init = false
}
