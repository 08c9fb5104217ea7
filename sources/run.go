package sources

import "context"

// run polls until ctx is done: at the interval (jittered), later after
// failures, and at once when triggered.
func (p *poller) run(ctx context.Context, out chan<- Update) {
	for {
		updates, _ := p.pollAndRecord(ctx)
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
		case <-p.env.clock.After(p.schedule()):
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
