package sip

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
)

// gopbx patch: itoa is strconv.Itoa for the numbers SIP messages carry over
// and over (ports, Content-Length): strconv allocates every number from
// 100 up, and writing a Via or URI port was 2% of the objects a B2BUA call
// allocated. Numbers below 1<<16 are kept in a direct-mapped cache; a
// collision only costs the allocation again.
type itoaEntry struct {
	n int
	s string
}

var itoaCache [4096]atomic.Pointer[itoaEntry]

func itoa(n int) string {
	if n < 100 || n >= 1<<16 {
		return strconv.Itoa(n) // below 100 strconv has them
	}
	slot := &itoaCache[n&(len(itoaCache)-1)]
	if e := slot.Load(); e != nil && e.n == n {
		return e.s
	}
	s := strconv.Itoa(n)
	slot.Store(&itoaEntry{n: n, s: s})
	return s
}

// writeUint writes n in decimal without a string of its own when buffer
// is one of the writers messages are serialized into (the concrete types
// keep the digits on the stack); gopbx patch.
func writeUint(buffer io.StringWriter, n uint64) {
	var nb [20]byte
	switch w := buffer.(type) {
	case *bytes.Buffer:
		w.Write(strconv.AppendUint(nb[:0], n, 10))
	case *strings.Builder:
		w.Write(strconv.AppendUint(nb[:0], n, 10))
	default:
		buffer.WriteString(strconv.FormatUint(n, 10))
	}
}
