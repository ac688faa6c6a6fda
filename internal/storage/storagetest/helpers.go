package storagetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/location"
)

// binding returns a binding with every field set, so round trips through a
// store check them all.
func binding(aor, contact string, expires time.Time) location.Binding {
	now := time.Now()
	return location.Binding{
		AOR:        aor,
		Contact:    contact,
		Received:   "198.51.100.7:5062",
		Transport:  "udp",
		LocalAddr:  "192.0.2.1:5060",
		Path:       "<sip:edge.example.com;lr>",
		CallID:     "a84b4c76e66710@pc33",
		CSeq:       314159,
		Expires:    expires,
		Q:          location.NoQ,
		InstanceID: "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>",
		RegID:      1,
		UserAgent:  "Yealink SIP-T46S 66.86.0.15",
		Updated:    now,
		Node:       "pbx-a",
	}
}

func mustPut(t *testing.T, s location.Store, b location.Binding) {
	t.Helper()
	if err := s.Put(context.Background(), b); err != nil {
		t.Fatalf("Put(%s, %s): %v", b.AOR, b.Contact, err)
	}
}

// wantBindings checks that Lookup(aor) returns exactly want, in order.
func wantBindings(t *testing.T, s location.Store, aor string, want ...location.Binding) {
	t.Helper()
	got, err := s.Lookup(context.Background(), aor)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", aor, err)
	}
	wantList(t, "Lookup("+aor+")", got, want)
}

func wantList(t *testing.T, what string, got, want []location.Binding) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d bindings, want %d:\n got %s\nwant %s", what, len(got), len(want), dump(got), dump(want))
		return
	}
	for i := range got {
		if d := diff(got[i], want[i]); d != "" {
			t.Errorf("%s[%d]: %s", what, i, d)
		}
	}
}

// diff describes how got differs from want, comparing times with Equal.
func diff(got, want location.Binding) string {
	var d []string
	str := func(name, g, w string) {
		if g != w {
			d = append(d, fmt.Sprintf("%s %q, want %q", name, g, w))
		}
	}
	str("AOR", got.AOR, want.AOR)
	str("Contact", got.Contact, want.Contact)
	str("Received", got.Received, want.Received)
	str("Transport", got.Transport, want.Transport)
	str("LocalAddr", got.LocalAddr, want.LocalAddr)
	str("Path", got.Path, want.Path)
	str("CallID", got.CallID, want.CallID)
	str("InstanceID", got.InstanceID, want.InstanceID)
	str("UserAgent", got.UserAgent, want.UserAgent)
	str("Node", got.Node, want.Node)
	if got.CSeq != want.CSeq {
		d = append(d, fmt.Sprintf("CSeq %d, want %d", got.CSeq, want.CSeq))
	}
	if got.Q != want.Q {
		d = append(d, fmt.Sprintf("Q %v, want %v", got.Q, want.Q))
	}
	if got.RegID != want.RegID {
		d = append(d, fmt.Sprintf("RegID %d, want %d", got.RegID, want.RegID))
	}
	if !got.Expires.Equal(want.Expires) {
		d = append(d, fmt.Sprintf("Expires %v, want %v", got.Expires, want.Expires))
	}
	if !got.Updated.Equal(want.Updated) {
		d = append(d, fmt.Sprintf("Updated %v, want %v", got.Updated, want.Updated))
	}
	return strings.Join(d, "; ")
}

func dump(bs []location.Binding) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, b := range bs {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s→%s cseq=%d", b.AOR, b.Contact, b.CSeq)
	}
	sb.WriteByte(']')
	return sb.String()
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
