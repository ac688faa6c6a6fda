package sipauth

import (
	"math"
	"sync"
)

const replayShards = 32

// replayTable remembers, for each nonce that authenticated a request, the
// highest nonce-count used with it. Its size is bounded: a full shard drops
// expired nonces, then its oldest eighth, and raises its floor so that every
// nonce issued before the floor and not remembered is refused.
type replayTable struct {
	perShard int
	lifetime int64
	shards   [replayShards]replayShard
}

type replayShard struct {
	mu      sync.Mutex
	m       map[nonceKey]replayEntry
	floor   int64   // nonces issued before floor and not in m are refused
	scratch []int64 // reused by evict
	_       [64]byte
}

type replayEntry struct {
	issued int64
	nc     uint32 // math.MaxUint32 once used without qop
}

type replayVerdict uint8

const (
	replayOK        replayVerdict = iota
	replayReused                  // nc not above the last one, or single-use nonce reused
	replayForgotten               // issued before the floor: unknown whether used
)

func newReplayTable(maxEntries int, lifetime, now int64) *replayTable {
	t := &replayTable{
		perShard: max(1, (maxEntries+replayShards-1)/replayShards),
		lifetime: lifetime,
	}
	for i := range t.shards {
		s := &t.shards[i]
		s.m = make(map[nonceKey]replayEntry, min(t.perShard, 64))
		s.floor = now
	}
	return t
}

// use records that the nonce key issued at issued authenticated a request
// with nonce-count nc (0: no qop, the nonce is single-use).
func (t *replayTable) use(key nonceKey, issued int64, nc uint32, now int64) replayVerdict {
	s := &t.shards[int(key[0])%replayShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if ok {
		if nc == 0 || nc <= e.nc {
			return replayReused
		}
		e.nc = nc
		s.m[key] = e
		return replayOK
	}
	if issued < s.floor {
		return replayForgotten
	}
	if len(s.m) >= t.perShard {
		s.evict(now-t.lifetime, t.perShard)
		if issued < s.floor {
			return replayForgotten
		}
	}
	if nc == 0 {
		nc = math.MaxUint32
	}
	s.m[key] = replayEntry{issued: issued, nc: nc}
	return replayOK
}

// evict makes room: it drops nonces issued before expiredBefore, and if that
// frees less than an eighth of the shard, the oldest eighth. The floor is
// raised above every dropped nonce, so that none can be replayed even if the
// clock steps back.
func (s *replayShard) evict(expiredBefore int64, perShard int) {
	for k, e := range s.m {
		if e.issued < expiredBefore {
			delete(s.m, k)
			s.floor = max(s.floor, e.issued+1)
		}
	}
	want := max(1, perShard/8)
	if perShard-len(s.m) >= want {
		return
	}
	s.scratch = s.scratch[:0]
	for _, e := range s.m {
		s.scratch = append(s.scratch, e.issued)
	}
	k := min(want, len(s.scratch)) - 1
	cutoff := nthSmallest(s.scratch, k) // a selection, not a sort: O(n)
	for k, e := range s.m {
		if e.issued <= cutoff {
			delete(s.m, k)
		}
	}
	s.floor = max(s.floor, cutoff+1)
}

// len returns the number of remembered nonces.
func (t *replayTable) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// nthSmallest returns the k-th smallest value of a (0-based), reordering a
// (quickselect with a median-of-three pivot).
func nthSmallest(a []int64, k int) int64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}
