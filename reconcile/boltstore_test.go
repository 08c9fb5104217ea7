package reconcile

import (
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Actions journaled before parts, keyed by time and sequence in the
// actions bucket, are still listed, in time order with the new ones; the
// embedded journal has no writer to claim.
func TestJournalReadsActionsWrittenBeforeParts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("actions"))
		if err != nil {
			return err
		}
		for i, a := range []ActionRecord{
			{Action: ActionPause, Source: "shop", App: "web", At: at.Add(time.Second)},
			{Action: ActionPause, Source: "shop", At: at.Add(3 * time.Second)},
		} {
			data, _ := json.Marshal(a)
			key := binary.BigEndian.AppendUint64(nil, uint64(a.At.UnixNano()))
			if err := b.Put(binary.BigEndian.AppendUint64(key, uint64(i+1)), data); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(path, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, a := range []ActionRecord{
		{Action: ActionResume, Source: "shop", App: "web", At: at.Add(2 * time.Second)},
		{Action: ActionResume, Source: "shop", At: at.Add(4 * time.Second)},
	} {
		if err := j.RecordAction(a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Actions(AppID{Source: "shop", Name: "web"}, "production")
	if err != nil || len(got) != 4 {
		t.Fatalf("actions = %+v, %v", got, err)
	}
	for i, a := range got {
		if want := at.Add(time.Duration(i+1) * time.Second); !a.At.Equal(want) {
			t.Errorf("action %d at %s, want %s", i, a.At, want)
		}
	}
	if err := j.Claim(AppID{Source: "shop", Name: "web"}); err != nil {
		t.Errorf("claiming on the embedded journal: %v", err)
	}
}
