package kubejournal

import (
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
)

// records are a part's records: bucket → key → value.
type records map[string]map[string][]byte

func (r records) get(bucket, key string) ([]byte, bool) {
	v, ok := r[bucket][key]
	return v, ok
}

func (r records) put(bucket, key string, v []byte) {
	if r[bucket] == nil {
		r[bucket] = map[string][]byte{}
	}
	r[bucket][key] = v
}

func (r records) del(bucket, key string) {
	delete(r[bucket], key)
	if len(r[bucket]) == 0 {
		delete(r, bucket)
	}
}

// clone copies r's maps (not its values, which are never changed).
func (r records) clone() records {
	out := make(records, len(r))
	for b, kv := range r {
		out[b] = maps.Clone(kv)
	}
	return out
}

// partState is what the store holds of one part: its object and the
// objects of its spilled records, decoded. It is never changed once
// built: observing an object builds a new one.
type partState struct {
	part   string
	main   *corev1.ConfigMap // nil while the part has no object
	recs   records           // the main object's records
	spills map[string]spill  // by object name
	merged records           // recs over the spills' records
}

// spill is an object of records moved out of their part's object.
type spill struct {
	obj  *corev1.ConfigMap
	recs records
}

// writer returns the identity that claimed the part, "" for none.
func (p *partState) writer() string {
	if p == nil || p.main == nil {
		return ""
	}
	return p.main.Annotations[AnnotationWriter]
}

// withMain returns p with main object cm (nil: none).
func (p *partState) withMain(part string, cm *corev1.ConfigMap, recs records) *partState {
	n := &partState{part: part, main: cm, recs: recs}
	if p != nil {
		n.spills = p.spills
	}
	n.merge()
	return n
}

// withSpill returns p with spill object cm (recs nil: removed).
func (p *partState) withSpill(part string, cm *corev1.ConfigMap, recs records) *partState {
	n := &partState{part: part, spills: map[string]spill{}}
	if p != nil && p.spills != nil {
		n.spills = maps.Clone(p.spills)
	}
	if p != nil {
		n.main, n.recs = p.main, p.recs
	}
	if recs == nil {
		delete(n.spills, cm.Name)
	} else {
		n.spills[cm.Name] = spill{obj: cm, recs: recs}
	}
	n.merge()
	return n
}

// merge computes merged: the spills in name order, the main records over
// them.
func (p *partState) merge() {
	p.merged = records{}
	for _, name := range slices.Sorted(maps.Keys(p.spills)) {
		for b, kv := range p.spills[name].recs {
			for k, v := range kv {
				if _, ok := p.merged.get(b, k); !ok {
					p.merged.put(b, k, v)
				}
			}
		}
	}
	for b, kv := range p.recs {
		for k, v := range kv {
			p.merged.put(b, k, v)
		}
	}
}

// spillOf returns the name of the spill object holding bucket's key, "".
func (p *partState) spillOf(bucket, key string) string {
	for _, name := range slices.Sorted(maps.Keys(p.spills)) {
		if _, ok := p.spills[name].recs.get(bucket, key); ok {
			return name
		}
	}
	return ""
}

// decode returns the records of part's object cm.
func decode(part string, cm *corev1.ConfigMap) (records, error) {
	out := records{}
	for dk, v := range cm.Data {
		b, k, err := parseDataKey(part, dk)
		if err != nil {
			return nil, err
		}
		out.put(b, k, []byte(v))
	}
	for dk, v := range cm.BinaryData {
		b, k, err := parseDataKey(part, dk)
		if err != nil {
			return nil, err
		}
		out.put(b, k, v)
	}
	return out, nil
}

// encode returns the data of part's records and their size in bytes.
func encode(part string, recs records) (data map[string]string, binary map[string][]byte, size int, err error) {
	data = map[string]string{}
	for b, kv := range recs {
		for k, v := range kv {
			dk, err := dataKey(part, b, k)
			if err != nil {
				return nil, nil, 0, err
			}
			size += len(dk) + len(v)
			if utf8.Valid(v) {
				data[dk] = string(v)
				continue
			}
			if binary == nil {
				binary = map[string][]byte{}
			}
			binary[dk] = v
		}
	}
	return data, binary, size, nil
}

// recordsSize is the size of recs as data.
func recordsSize(part string, recs records) int {
	size := 0
	for b, kv := range recs {
		for k, v := range kv {
			dk, _ := dataKey(part, b, k)
			size += len(dk) + len(v)
		}
	}
	return size
}

// newer reports whether resourceVersion a is newer than b ("" is oldest).
// Resource versions are opaque, but etcd's are integers that grow.
func newer(a, b string) bool {
	if b == "" {
		return true
	}
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return a != b
	}
	return x > y
}

// index is every part's merged records, by bucket, for reads.
type index map[string]*bucketIndex

type bucketIndex struct {
	vals map[string][]byte
	keys []string // sorted
}

// replace swaps old's records (nil for none) for n's.
func (ix index) replace(old, n records) {
	for b, kv := range old {
		for k := range kv {
			if _, ok := n.get(b, k); !ok {
				ix.del(b, k)
			}
		}
	}
	for b, kv := range n {
		for k, v := range kv {
			ix.put(b, k, v)
		}
	}
}

func (ix index) put(bucket, key string, v []byte) {
	bi := ix[bucket]
	if bi == nil {
		bi = &bucketIndex{vals: map[string][]byte{}}
		ix[bucket] = bi
	}
	if _, ok := bi.vals[key]; !ok {
		i, _ := slices.BinarySearch(bi.keys, key)
		bi.keys = slices.Insert(bi.keys, i, key)
	}
	bi.vals[key] = v
}

func (ix index) del(bucket, key string) {
	bi := ix[bucket]
	if bi == nil {
		return
	}
	if _, ok := bi.vals[key]; !ok {
		return
	}
	delete(bi.vals, key)
	if i, ok := slices.BinarySearch(bi.keys, key); ok {
		bi.keys = slices.Delete(bi.keys, i, i+1)
	}
}
