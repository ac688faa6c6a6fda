package test

import (
	"testing"
	"time"

	"github.com/gopbx/gopbx/test/harness"
)

// Requests gopbx answers itself, over UDP and TCP: OPTIONS (200 with
// Allow), an unknown method (501), Max-Forwards: 0 (483) and an unknown
// Require (420 with Unsupported).
func TestRequestValidation(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.31.1")
	local := harness.IP(t, "127.0.31.2")
	for _, tr := range transports {
		for _, scenario := range []string{"options", "unknown_method", "max_forwards_zero", "unknown_require"} {
			t.Run(tr.name+"/"+scenario, func(t *testing.T) {
				t.Parallel()
				sipp(t, pbx, scenario, tr.sipp, local, 0, "")
			})
		}
	}
}

// OPTIONS over a fresh TCP connection from the harness's own client (no
// SIPp) gets a 200.
func TestOptionsTCP(t *testing.T) {
	t.Parallel()
	pbx := startPJSIP(t, "127.0.32.1")
	local := harness.IP(t, "127.0.32.2")
	if err := harness.WaitSIP("tcp", local, pbx.Addr(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
