package sipauth

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNthSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 7, 64, 1000} {
		for trial := 0; trial < 20; trial++ {
			a := make([]int64, n)
			for i := range a {
				a[i] = r.Int64N(int64(n/2 + 1)) // duplicates too
			}
			sorted := slices.Sorted(slices.Values(a))
			k := r.IntN(n)
			if got := nthSmallest(slices.Clone(a), k); got != sorted[k] {
				t.Fatalf("n=%d k=%d: got %d, want %d (%v)", n, k, got, sorted[k], a)
			}
		}
	}
}
