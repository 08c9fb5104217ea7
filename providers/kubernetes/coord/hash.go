package coord

import (
	"hash/fnv"
	"slices"
)

// weight is member's rendezvous weight for key: FNV-1a of both, mixed by
// splitmix64's finalizer so that similar names spread evenly.
func weight(member, key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(member))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// owner returns the member of view with the highest weight for key
// (rendezvous hashing): removing a member moves only its own keys, adding
// one moves only the keys it wins. Ties go to the lesser identity. An
// empty view owns nothing: owner returns "".
func owner(key string, view []string) string {
	best, bestWeight := "", uint64(0)
	for _, m := range view {
		w := weight(m, key)
		if best == "" || w > bestWeight || (w == bestWeight && m < best) {
			best, bestWeight = m, w
		}
	}
	return best
}

// sameView reports whether two sorted views hold the same members.
func sameView(a, b []string) bool { return slices.Equal(a, b) }
