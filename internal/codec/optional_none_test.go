//go:build !opus || !cgo

package codec

import "testing"

func TestNoOpusWithoutTag(t *testing.T) {
	if _, ok := Lookup("opus"); ok {
		t.Error("opus registered without the opus build tag")
	}
	want := []string{"ulaw", "alaw", "g722", "gsm"}
	all := All()
	if len(all) != len(want) {
		t.Fatalf("All() has %d codecs, want %v", len(all), want)
	}
	for i, c := range all {
		if c.Name() != want[i] {
			t.Errorf("All()[%d] = %s, want %s", i, c.Name(), want[i])
		}
	}
}
