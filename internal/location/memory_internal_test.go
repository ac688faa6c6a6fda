package location

import (
	"testing"
	"time"
)

func TestChangeSplitsRefreshes(t *testing.T) {
	now := time.Now()
	a := Binding{AOR: "1000", Contact: "sip:1000@10.0.0.1", Received: "10.0.0.1:5060", CallID: "c", CSeq: 1, Expires: now.Add(time.Hour), Q: NoQ, Updated: now}
	b := a
	b.Contact = "sip:1000@10.0.0.2"
	refreshed := a
	refreshed.CallID, refreshed.CSeq, refreshed.Expires, refreshed.Updated = "new", 1, now.Add(2*time.Hour), now.Add(time.Second)
	moved := b
	moved.CSeq, moved.Received = 2, "10.0.0.9:5060" // NAT binding changed: a whole put
	added := a
	added.Contact = "sip:1000@10.0.0.3"

	c := change("1000", []Binding{a, b}, []Binding{refreshed, moved, added}, nil)
	if len(c.Refresh) != 1 || c.Refresh[0].Contact != a.Contact || c.Refresh[0].CallID != "new" {
		t.Errorf("Refresh = %+v, want the refreshed binding only", c.Refresh)
	}
	if len(c.Put) != 2 || c.Put[0].Contact != moved.Contact || c.Put[1].Contact != added.Contact {
		t.Errorf("Put = %+v, want the moved and the added binding", c.Put)
	}
	if c := change("1000", nil, []Binding{a}, nil); len(c.Refresh) != 0 || len(c.Put) != 1 {
		t.Errorf("new binding: %+v", c)
	}
}
