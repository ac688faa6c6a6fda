package channel

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestChannelNames: names and unique IDs are formatted as Asterisk's (and
// as fmt would: Tech/resource-%08x, unix time "." sequence).
func TestChannelNames(t *testing.T) {
	for _, tc := range []struct {
		tech, res string
		n         uint32
	}{{"PJSIP", "1000", 1}, {"SIP", "trunk-provider.example.com", 0xabcdef}, {"Local", "", 0xffffffff}, {"PJSIP", strings.Repeat("x", 80), 42}} {
		if got, want := channelName(tc.tech, tc.res, tc.n), fmt.Sprintf("%s/%s-%08x", tc.tech, tc.res, tc.n); got != want {
			t.Errorf("channelName = %q, want %q", got, want)
		}
	}
	now := time.Unix(1764300000, 0)
	if got, want := uniqueID(now, 77), fmt.Sprintf("%d.%d", now.Unix(), 77); got != want {
		t.Errorf("uniqueID = %q, want %q", got, want)
	}
}
