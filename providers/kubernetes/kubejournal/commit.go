package kubejournal

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/reconcile"
)

// commit writes t's changes to base's part: spilled records first (their
// own objects), then the part's object, conditional on base's
// resourceVersion (created when base has none). Spill objects whose
// records the transaction changed are taken back into the part and
// deleted once it is written.
func (s *Store) commit(base *partState, t *tx) error {
	part := t.part
	recs, absorbed := absorb(base, t.writes)
	for b, kv := range t.writes {
		for k, v := range kv {
			if v == nil {
				recs.del(b, k)
			} else {
				recs.put(b, k, *v)
			}
		}
	}
	spills, err := s.spill(part, base, recs, t.writes)
	if err != nil {
		return err
	}
	cm := s.object(part, base)
	var size int
	if cm.Data, cm.BinaryData, size, err = encode(part, recs); err != nil {
		return err
	}
	if size > maxObject {
		return fmt.Errorf("journal part %s would hold %d bytes of records that cannot move out (running rollouts, current and stable records, holds); a ConfigMap holds at most 1 MiB", part, size)
	}
	for _, sp := range spills {
		if err := s.createSpill(sp); err != nil {
			return err
		}
		absorbed = slices.DeleteFunc(absorbed, func(name string) bool { return name == sp.Name })
	}
	if err := s.write(cm); err != nil {
		return err
	}
	s.deleteSpills(part, absorbed)
	return nil
}

// absorb returns base's part records, with those of the spill objects
// holding a record that writes change (returned by name, to delete).
func absorb(base *partState, writes map[string]map[string]*[]byte) (records, []string) {
	if base == nil {
		return records{}, nil
	}
	recs := base.recs.clone()
	var names []string
	for b, kv := range writes {
		for k := range kv {
			if _, ok := recs.get(b, k); ok {
				continue
			}
			name := base.spillOf(b, k)
			if name == "" || slices.Contains(names, name) {
				continue
			}
			names = append(names, name)
			for sb, skv := range base.spills[name].recs {
				for sk, sv := range skv {
					if _, ok := recs.get(sb, sk); !ok {
						recs.put(sb, sk, sv)
					}
				}
			}
		}
	}
	return recs, names
}

// spill moves settled records (reconcile.Settled) that writes did not
// change out of recs, oldest first, when recs exceed the part budget,
// until they are under half of it; it returns the objects to create, each
// within the budget.
func (s *Store) spill(part string, base *partState, recs records, writes map[string]map[string]*[]byte) ([]*corev1.ConfigMap, error) {
	size := recordsSize(part, recs)
	if size <= s.opts.PartBudget {
		return nil, nil
	}
	settled, err := reconcile.Settled(recordsTx(recs))
	if err != nil {
		return nil, fmt.Errorf("journal part %s: finding settled records: %w", part, err)
	}
	var batches []records
	cur, curSize := records{}, 0
	for _, r := range settled {
		if size <= s.opts.PartBudget/2 {
			break
		}
		if _, changed := writes[r.Bucket][r.Key]; changed {
			continue
		}
		v, _ := recs.get(r.Bucket, r.Key)
		dk, _ := dataKey(part, r.Bucket, r.Key)
		n := len(dk) + len(v)
		if curSize > 0 && curSize+n > s.opts.PartBudget {
			batches, cur, curSize = append(batches, cur), records{}, 0
		}
		cur.put(r.Bucket, r.Key, v)
		recs.del(r.Bucket, r.Key)
		curSize, size = curSize+n, size-n
	}
	if curSize > 0 {
		batches = append(batches, cur)
	}
	rv := ""
	if base != nil && base.main != nil {
		rv = base.main.ResourceVersion
	}
	out := make([]*corev1.ConfigMap, 0, len(batches))
	for _, b := range batches {
		cm, err := s.spillObject(part, rv, b)
		if err != nil {
			return nil, err
		}
		out = append(out, cm)
	}
	return out, nil
}

// spillObject returns the object of spilled records recs of part, named
// after the part's object, the resourceVersion it is spilled from and the
// records' keys.
func (s *Store) spillObject(part, rv string, recs records) (*corev1.ConfigMap, error) {
	var keys []string
	for b, kv := range recs {
		for k := range kv {
			keys = append(keys, b+"\x00"+k)
		}
	}
	slices.Sort(keys)
	labels, annotations := partMeta(s.name, part)
	labels[LabelSpill] = "true"
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name:      objectName(s.name, part) + "-" + hash8(rv+"\x00"+strings.Join(keys, "\x00")),
		Namespace: s.namespace, Labels: labels, Annotations: annotations,
	}}
	var err error
	cm.Data, cm.BinaryData, _, err = encode(part, recs)
	return cm, err
}

// createSpill creates spill object cm; one already there (a former
// attempt's, of the same records) will do.
func (s *Store) createSpill(cm *corev1.ConfigMap) error {
	ctx, cancel := s.ctx()
	defer cancel()
	out, err := s.client.CoreV1().ConfigMaps(s.namespace).Create(ctx, cm, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil
	case err != nil:
		return fmt.Errorf("writing settled records of journal part %s to %s: %w", cm.Annotations[AnnotationPart], cm.Name, err)
	}
	s.observe(out)
	return nil
}

// deleteSpills deletes spill objects whose records the part's object now
// holds; one left behind is shadowed by the part's records, and logged.
func (s *Store) deleteSpills(part string, names []string) {
	ctx, cancel := s.ctx()
	defer cancel()
	for _, name := range names {
		err := s.client.CoreV1().ConfigMaps(s.namespace).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			s.opts.Logger.Warn("journal: a spilled records object taken back into its part could not be deleted",
				"object", name, "part", part, "err", err)
			continue
		}
		s.setPart(part, func(p *partState) *partState {
			if p == nil || p.spills[name].obj == nil {
				return p
			}
			return p.withSpill(part, p.spills[name].obj, nil)
		})
	}
}
