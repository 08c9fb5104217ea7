package autoscaling

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// checkpointReason starts the StatusReason of a refresh waiting at a
// checkpoint.
const checkpointReason = "Waiting at checkpoint"

// MaxCheckpointDelay is the longest CheckpointDelay AWS accepts, in
// seconds (two days).
const MaxCheckpointDelay = 172800

// defaultCheckpointDelay is AWS's CheckpointDelay when only
// CheckpointPercentages is given.
const defaultCheckpointDelay = 3600

// readCheckpoints reads Preferences.CheckpointPercentages and
// CheckpointDelay, refusing what AWS refuses: a delay without
// percentages, percentages not ascending, unique and within 1..100.
func (ref *refresh) readCheckpoints(f protocol.Form) error {
	for _, v := range f.Strings("Preferences.CheckpointPercentages") {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1 || n > 100 {
			return validation("CheckpointPercentages must be between 1 and 100")
		}
		if len(ref.checkpoints) > 0 && n <= ref.checkpoints[len(ref.checkpoints)-1] {
			return validation("CheckpointPercentages must be unique and in ascending order")
		}
		ref.checkpoints = append(ref.checkpoints, n)
	}
	delay, hasDelay := f.Int("Preferences.CheckpointDelay")
	if hasDelay && len(ref.checkpoints) == 0 {
		return validation("CheckpointDelay requires CheckpointPercentages")
	}
	if hasDelay && (delay < 0 || delay > MaxCheckpointDelay) {
		return validation("CheckpointDelay must be between 0 and %d seconds", MaxCheckpointDelay)
	}
	ref.delay = defaultCheckpointDelay
	if hasDelay {
		ref.delay = delay
	}
	return nil
}

// checkpointTarget is how many instances may be replaced before the next
// checkpoint: all of them when none is left (or the next is 100).
func (ref *refresh) checkpointTarget() int {
	if ref.next >= len(ref.checkpoints) {
		return ref.total
	}
	return ceilPercent(ref.total, ref.checkpoints[ref.next])
}

// atCheckpoint reports whether the refresh waits at a checkpoint: it
// starts waiting once the replacements the checkpoint allows are done
// and healthy (nothing in flight), and waits CheckpointDelay. The last
// checkpoint, 100, ends the refresh instead of waiting.
func (ref *refresh) atCheckpoint(remaining, inFlight int, now time.Time) bool {
	if now.Before(ref.pausedUntil) {
		return true
	}
	if ref.next >= len(ref.checkpoints) || ref.checkpoints[ref.next] == 100 || inFlight > 0 || ref.total-remaining < ref.checkpointTarget() {
		if strings.HasPrefix(ref.reason, checkpointReason) {
			ref.reason = ""
		}
		return false
	}
	ref.pausedUntil = now.Add(time.Duration(ref.delay) * time.Second)
	ref.reason = fmt.Sprintf(checkpointReason+" %d of %d (%d%% of instances replaced) until %s", ref.next+1, len(ref.checkpoints),
		ref.checkpoints[ref.next], isoTime(ref.pausedUntil))
	ref.next++
	return true
}

// xmlPreferences are a refresh's preferences as DescribeInstanceRefreshes
// returns them.
type xmlPreferences struct {
	MinHealthyPercentage  int
	InstanceWarmup        int   `xml:",omitempty"`
	CheckpointPercentages []int `xml:"CheckpointPercentages>member,omitempty"`
	CheckpointDelay       int   `xml:",omitempty"`
	SkipMatching          bool
	AutoRollback          bool
}

func (ref *refresh) preferences() *xmlPreferences {
	p := &xmlPreferences{MinHealthyPercentage: ref.minHealthy, InstanceWarmup: ref.warmup, SkipMatching: ref.skipMatching,
		AutoRollback: ref.autoRollback, CheckpointPercentages: slices.Clone(ref.checkpoints)}
	if len(ref.checkpoints) > 0 {
		p.CheckpointDelay = ref.delay
	}
	return p
}
