package sources

import "context"

// run polls until ctx is done: at the interval (jittered), later after
// failures, and at once when triggered.
//
// A triggered poll (a webhook said the branch moved) fetches at once: see
// poller.poll.
func (p *poller) run(ctx context.Context, out chan<- Update) {
	triggered := false
	for {
		updates, _ := p.pollAndRecord(ctx, triggered)
		if ctx.Err() != nil {
			return
		}
		if !publish(ctx, out, updates) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-p.trigger:
			triggered = true
		case <-p.env.clock.After(p.schedule()):
			triggered = false
		}
	}
}

// publish sends updates to out, giving up when ctx is done.
func publish(ctx context.Context, out chan<- Update, updates []Update) bool {
	for _, u := range updates {
		select {
		case out <- u:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
