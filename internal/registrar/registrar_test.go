package registrar

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/endpoint"
	"github.com/gopbx/gopbx/internal/location"
	"github.com/gopbx/gopbx/internal/sipserver"
	"github.com/gopbx/gopbx/internal/siptest"
)

// allow is a guard that accepts every request (digest is tested in sipauth
// and end to end in test/).
var allow = GuardFunc(func(context.Context, *sipserver.Request, *endpoint.Endpoint) bool { return true })

func start(t *testing.T, eps ...*endpoint.Endpoint) (*siptest.UDP, *location.Memory) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := sipserver.New(sipserver.Options{Log: log, UserAgent: "t"})
	if err != nil {
		t.Fatal(err)
	}
	store := location.NewMemory()
	rg := New(store, allow, &Policy{
		Endpoints: endpoint.NewSet(eps), MinExpiry: 60 * time.Second, MaxExpiry: 3600 * time.Second, DefaultExpiry: 120 * time.Second,
	}, log)
	srv.Handle(sip.REGISTER, rg)
	if err := srv.Listen(context.Background(), []sipserver.Listener{{Proto: "udp", Addr: "127.0.0.1:0"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return siptest.DialUDP(t, "127.0.0.1:0", srv.Listeners()[0].Addr), store
}

type reg struct {
	aor      string
	callID   string
	cseq     int
	contacts []string
	expires  string
}

func (r reg) String() string {
	var b strings.Builder
	b.WriteString("REGISTER sip:127.0.0.1 SIP/2.0\r\n")
	b.WriteString("Via: SIP/2.0/UDP {local};rport;branch=z9hG4bK" + siptest.Unique() + "\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: <sip:" + r.aor + "@127.0.0.1>;tag=" + siptest.Unique() + "\r\n")
	b.WriteString("To: <sip:" + r.aor + "@127.0.0.1>\r\n")
	b.WriteString("Call-ID: " + r.callID + "\r\n")
	b.WriteString("CSeq: " + strconv.Itoa(r.cseq) + " REGISTER\r\n")
	for _, c := range r.contacts {
		b.WriteString("Contact: " + c + "\r\n")
	}
	if r.expires != "" {
		b.WriteString("Expires: " + r.expires + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

func phone(name string, mod func(*endpoint.Endpoint)) *endpoint.Endpoint {
	e := &endpoint.Endpoint{Tech: endpoint.TechPJSIP, Name: name, Dynamic: true, AORs: []string{name}}
	if mod != nil {
		mod(e)
	}
	return e
}

func TestRegister(t *testing.T) {
	c, store := start(t,
		phone("1000", nil),
		phone("1001", func(e *endpoint.Endpoint) { e.MaxContacts = 1 }),
		phone("1002", func(e *endpoint.Endpoint) { e.MaxContacts = 1; e.RemoveExisting = true }),
		phone("gw", func(e *endpoint.Endpoint) { e.Dynamic = false }),
	)
	ctx := context.Background()
	step := func(t *testing.T, r reg, wantStatus string) string {
		t.Helper()
		res := c.Exchange(r.String())
		if got := siptest.Status(res); got != wantStatus {
			t.Fatalf("status %q, want %q\n%s", got, wantStatus, res)
		}
		return res
	}
	contacts := func(aor string) []string {
		bs, _ := store.Lookup(ctx, aor)
		var out []string
		for _, b := range bs {
			out = append(out, b.Contact)
		}
		return out
	}

	t.Run("register lists bindings", func(t *testing.T) {
		res := step(t, reg{aor: "1000", callID: "a1", cseq: 1, contacts: []string{"<sip:1000@127.0.0.1:5070>"}, expires: "300"}, "SIP/2.0 200 OK")
		if got := siptest.Headers(res, "Contact"); len(got) != 1 || !strings.HasPrefix(got[0], "<sip:1000@127.0.0.1:5070>;expires=") {
			t.Fatalf("Contact = %q", got)
		}
		bs, _ := store.Lookup(ctx, "1000")
		if len(bs) != 1 || bs[0].Received != c.Addr() || bs[0].Transport != "udp" {
			t.Fatalf("binding = %+v", bs)
		}
	})
	t.Run("second contact and q", func(t *testing.T) {
		res := step(t, reg{aor: "1000", callID: "a2", cseq: 1, contacts: []string{"<sip:1000@127.0.0.1:5071>;q=0.5;expires=200"}}, "SIP/2.0 200 OK")
		if got := siptest.Headers(res, "Contact"); len(got) != 2 {
			t.Fatalf("Contact = %q", got)
		}
	})
	t.Run("expires clamped to max", func(t *testing.T) {
		res := step(t, reg{aor: "1000", callID: "a1", cseq: 2, contacts: []string{"<sip:1000@127.0.0.1:5070>"}, expires: "99999"}, "SIP/2.0 200 OK")
		if !strings.Contains(res, "<sip:1000@127.0.0.1:5070>;expires=3600") {
			t.Fatalf("not clamped:\n%s", res)
		}
	})
	t.Run("too brief", func(t *testing.T) {
		res := step(t, reg{aor: "1000", callID: "a1", cseq: 3, contacts: []string{"<sip:1000@127.0.0.1:5070>"}, expires: "5"}, "SIP/2.0 423 Interval Too Brief")
		if siptest.Header(res, "Min-Expires") != "60" {
			t.Fatalf("Min-Expires missing:\n%s", res)
		}
	})
	t.Run("out of order cseq", func(t *testing.T) {
		step(t, reg{aor: "1000", callID: "a1", cseq: 1, contacts: []string{"<sip:1000@127.0.0.1:5070>"}, expires: "300"}, "SIP/2.0 500 Server Internal Error")
	})
	t.Run("query", func(t *testing.T) {
		res := step(t, reg{aor: "1000", callID: "q", cseq: 1}, "SIP/2.0 200 OK")
		if got := siptest.Headers(res, "Contact"); len(got) != 2 {
			t.Fatalf("query Contact = %q", got)
		}
	})
	t.Run("unregister one", func(t *testing.T) {
		step(t, reg{aor: "1000", callID: "a2", cseq: 2, contacts: []string{"<sip:1000@127.0.0.1:5071>"}, expires: "0"}, "SIP/2.0 200 OK")
		if got := contacts("1000"); len(got) != 1 || got[0] != "sip:1000@127.0.0.1:5070" {
			t.Fatalf("after unregister: %q", got)
		}
	})
	t.Run("star with contacts is invalid", func(t *testing.T) {
		step(t, reg{aor: "1000", callID: "s", cseq: 1, contacts: []string{"*", "<sip:1000@127.0.0.1:5072>"}, expires: "0"}, "SIP/2.0 400 Invalid Wildcard Contact")
		step(t, reg{aor: "1000", callID: "s", cseq: 2, contacts: []string{"*"}, expires: "60"}, "SIP/2.0 400 Invalid Wildcard Contact")
	})
	t.Run("star removes all", func(t *testing.T) {
		step(t, reg{aor: "1000", callID: "s", cseq: 3, contacts: []string{"*"}, expires: "0"}, "SIP/2.0 200 OK")
		if got := contacts("1000"); len(got) != 0 {
			t.Fatalf("after *: %q", got)
		}
	})
	t.Run("max_contacts refuses", func(t *testing.T) {
		step(t, reg{aor: "1001", callID: "m1", cseq: 1, contacts: []string{"<sip:1001@127.0.0.1:5080>"}}, "SIP/2.0 200 OK")
		step(t, reg{aor: "1001", callID: "m2", cseq: 1, contacts: []string{"<sip:1001@127.0.0.1:5081>"}}, "SIP/2.0 403 Forbidden (max_contacts exceeded)")
		// Refreshing the existing contact is fine.
		step(t, reg{aor: "1001", callID: "m1", cseq: 2, contacts: []string{"<sip:1001@127.0.0.1:5080>"}}, "SIP/2.0 200 OK")
	})
	t.Run("remove_existing replaces", func(t *testing.T) {
		step(t, reg{aor: "1002", callID: "r1", cseq: 1, contacts: []string{"<sip:1002@127.0.0.1:5090>"}}, "SIP/2.0 200 OK")
		res := step(t, reg{aor: "1002", callID: "r2", cseq: 1, contacts: []string{"<sip:1002@127.0.0.1:5091>"}}, "SIP/2.0 200 OK")
		if got := contacts("1002"); len(got) != 1 || got[0] != "sip:1002@127.0.0.1:5091" {
			t.Fatalf("remove_existing: %q\n%s", got, res)
		}
	})
	t.Run("retransmission gets the same answer", func(t *testing.T) {
		msg := reg{aor: "1000", callID: "rt", cseq: 7, contacts: []string{"<sip:1000@127.0.0.1:5075>"}}.String()
		first := c.Exchange(msg)
		again := c.Exchange(msg) // same branch: absorbed, not re-applied (which would be 500 out of order)
		if siptest.Status(first) != "SIP/2.0 200 OK" || first != again {
			t.Fatalf("retransmission answered differently:\n%s\n---\n%s", first, again)
		}
	})
	t.Run("unknown aor", func(t *testing.T) {
		step(t, reg{aor: "9999", callID: "u", cseq: 1, contacts: []string{"<sip:9999@127.0.0.1:5090>"}}, "SIP/2.0 404 Not Found")
	})
	t.Run("static endpoint", func(t *testing.T) {
		step(t, reg{aor: "gw", callID: "g", cseq: 1, contacts: []string{"<sip:gw@127.0.0.1:5090>"}}, "SIP/2.0 403 Forbidden")
	})
}
