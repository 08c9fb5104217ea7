package clock

import (
	"testing"
	"time"
)

func TestManualMovesOnlyWhenAdvanced(t *testing.T) {
	m := NewManual(Epoch)
	m.Advance(-time.Second)
	if !m.Now().Equal(Epoch) {
		t.Fatalf("negative advance moved the clock to %v", m.Now())
	}
	m.Advance(90 * time.Second)
	if got := m.Now().Sub(Epoch); got != 90*time.Second {
		t.Errorf("advanced %v, want 90s", got)
	}
}

func TestScaledRunsFasterThanWallClock(t *testing.T) {
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewScaled(Epoch, 60)
	s.start, s.wall = wall, func() time.Time { return wall.Add(2 * time.Second) }
	if got := s.Now().Sub(Epoch); got != 2*time.Minute {
		t.Errorf("2s of wall time at 60x = %v, want 2m", got)
	}
	s.Advance(time.Hour)
	if got := s.Now().Sub(Epoch); got != time.Hour+2*time.Minute {
		t.Errorf("after Advance(1h): %v", got)
	}
}
