package sipserver

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The fast path's INVITE server transaction (RFC 3261 §17.2.1 with the
// RFC 6026 Accepted state) for UDP. sipgo's own costs a goroutine per
// datagram, an FSM with five timers and a 32 s retention of the INVITE and
// its responses after the 2xx (Timer L); at 1,500 calls/s that retention
// alone is 48,000 transactions. Here a transaction is a small struct in a
// sharded table:
//
//   - INVITE retransmissions get the last response sent again (none yet:
//     absorbed);
//   - a 2xx moves it to Accepted: sipgo's dialog session retransmits the
//     2xx itself until the ACK (which has its own branch and goes to the
//     ACK handler); the entry stays retransTTL to absorb late
//     INVITE retransmissions;
//   - a final non-2xx is retransmitted (Timer G, doubling to T2) until its
//     ACK or Timer H; the ACK is matched by the worker that parses it,
//     before any handler, and ends the transaction (ACK retransmissions
//     are absorbed for Timer I);
//   - a CANCEL is matched here too: 200 to the CANCEL, 487, then the
//     OnCancel callbacks (sipgo's dialog ends its context).
//
// The transaction never touches the INVITE after its creation: sipgo parses
// headers lazily, so reading the request here while the handler's goroutine
// uses it would race. The 487 is built from the CANCEL, which carries the
// same Via, From, To, Call-ID and CSeq number (RFC 3261 §9.1).
type inviteTx struct {
	tab  *inviteTable
	key  string
	pc   net.PacketConn
	from net.Addr // the INVITE's source
	dest net.Addr // where responses go: Via and rport (RFC 3261 §18.2.2)
	srcS string   // from as a string, for responses that name it

	expires atomic.Int64 // unix ns when the table forgets it; 0 while active

	mu       sync.Mutex
	state    txState
	accepted bool   // a 2xx was sent: the dialog may resend it at any time
	canceled bool   // a CANCEL came first: no 2xx any more, the 487 follows
	last     []byte // last response sent
	toTag    string // of the provisional responses, for the 487
	timer    *time.Timer
	interval time.Duration // Timer G's next interval
	deadline time.Time     // Timer H
	done     chan struct{}
	err      error
	onTerm   []sip.FnTxTerminate
	onCancel []sip.FnTxCancel
	acks     chan *sip.Request
}

type txState uint8

const (
	txProceeding txState = iota
	txAccepted           // 2xx sent (RFC 6026)
	txCompleted          // non-2xx final sent, waiting for its ACK
	txConfirmed          // ACK received
	txTerminated
)

// Timer values of RFC 3261 §17 (T1 = 500 ms, T2 = 4 s, T4 = 5 s).
const (
	txT1     = 500 * time.Millisecond
	txT2     = 4 * time.Second
	txTimerH = 64 * txT1
	txTimerI = 5 * time.Second
)

var errTxState = errors.New("sipserver: response not allowed in this INVITE transaction state")

func newInviteTx(tab *inviteTable, key string, pc net.PacketConn, from net.Addr, src string, dest net.Addr) *inviteTx {
	return &inviteTx{tab: tab, key: key, pc: pc, from: from, dest: dest, srcS: src,
		done: make(chan struct{}), acks: make(chan *sip.Request, 1)}
}

// Respond sends res. Provisional responses are allowed until a final one;
// a 2xx may be sent again (the dialog's retransmissions) once accepted,
// also after the transaction has terminated.
func (tx *inviteTx) Respond(res *sip.Response) error {
	var tag string
	if t := res.To(); t != nil {
		tag, _ = t.Params.Get("tag")
	}
	// Request.Send names the source when the handler forced rport
	// (nat=force_rport): so go the retransmissions and the 487.
	return tx.send(marshalResponse(res), res.StatusCode, tag, res.Destination() == tx.srcS)
}

// send is Respond of a response already written (b), with its status code
// and To tag; toSource sends it (and what follows) to the request's source.
func (tx *inviteTx) send(b []byte, code int, toTag string, toSource bool) error {
	tx.mu.Lock()
	if toSource {
		tx.dest = tx.from
	}
	to := tx.dest
	switch {
	case code < 200 && tx.state == txProceeding:
		tx.toTag = toTag
	case code >= 200 && code < 300 && ((tx.state == txProceeding && !tx.canceled) || tx.accepted):
		// The dialog retransmits its 2xx until the ACK, for up to 64*T1
		// (RFC 6026: a TU matter), also after the table has forgotten the
		// transaction; the table keeps it retransTTL for INVITE
		// retransmissions, which stop at the first provisional response.
		if tx.state == txProceeding {
			tx.state, tx.accepted = txAccepted, true
			tx.expires.Store(time.Now().Add(retransTTL).UnixNano())
		}
	case code >= 300 && tx.state == txProceeding:
		tx.state = txCompleted
		tx.interval = txT1
		tx.deadline = time.Now().Add(txTimerH)
		tx.timer = time.AfterFunc(txT1, tx.timerG)
	default:
		tx.mu.Unlock()
		return errTxState
	}
	tx.last = b
	tx.mu.Unlock()
	return tx.tab.f.write(tx.pc, b, to, nil)
}

func marshalResponse(res *sip.Response) []byte {
	buf := make([]byte, 0, 768)
	w := bytesWriter{b: buf}
	res.StringWrite(&w)
	return w.b
}

// bytesWriter is an io.StringWriter over a slice (no bytes.Buffer to
// allocate).
type bytesWriter struct{ b []byte }

func (w *bytesWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

// timerG retransmits the final non-2xx until its ACK, or ends the
// transaction at Timer H.
func (tx *inviteTx) timerG() {
	tx.mu.Lock()
	if tx.state != txCompleted {
		tx.mu.Unlock()
		return
	}
	if !time.Now().Before(tx.deadline) {
		tx.mu.Unlock()
		tx.terminate(sip.ErrTransactionTimeout, 0)
		return
	}
	b, to := tx.last, tx.dest
	tx.interval = min(2*tx.interval, txT2)
	tx.timer.Reset(tx.interval)
	tx.mu.Unlock()
	tx.tab.f.write(tx.pc, b, to, nil)
}

// retransmitted answers a retransmitted INVITE with the last response.
func (tx *inviteTx) retransmitted() {
	tx.mu.Lock()
	b, to := tx.last, tx.dest
	tx.mu.Unlock()
	if b != nil {
		tx.tab.f.write(tx.pc, b, to, nil)
	}
}

// ack takes the ACK of a non-2xx final response (or a retransmission of
// it, absorbed). It returns false for an ACK it does not own: one reusing
// the INVITE's branch for a 2xx (RFC 2543 style), which the dialog needs.
func (tx *inviteTx) ack(req *sip.Request) bool {
	tx.mu.Lock()
	if tx.state == txAccepted {
		tx.mu.Unlock()
		return false
	}
	if tx.state != txCompleted {
		tx.mu.Unlock()
		return true
	}
	tx.state = txConfirmed
	if tx.timer != nil {
		tx.timer.Stop()
	}
	tx.mu.Unlock()
	select {
	case tx.acks <- req:
	default:
	}
	tx.terminate(nil, txTimerI)
	return true
}

// cancel runs a matched CANCEL: a 200 for it and, before a final
// response, a 487 built from the CANCEL, then the OnCancel callbacks. The
// 487 goes first: a callback ends the dialog's context, and a handler that
// returns on it without responding would otherwise end the transaction
// (handlerDone) before the 487, leaving the caller without a final answer.
func (tx *inviteTx) cancel(req *sip.Request) {
	ok := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if h := tx.tab.f.s.serverHeader(); h != nil {
		ok.AppendHeader(h)
	}
	tx.mu.Lock()
	to := tx.dest
	tx.mu.Unlock()
	tx.tab.f.write(tx.pc, marshalResponse(ok), to, nil)
	tx.mu.Lock()
	if tx.state != txProceeding || tx.canceled { // answered, or a retransmitted CANCEL
		tx.mu.Unlock()
		return
	}
	cbs := tx.onCancel
	tx.onCancel = nil
	tx.canceled = true // a 200 racing this CANCEL is refused: the caller gets the 487
	tag := tx.toTag
	tx.err = sip.ErrTransactionCanceled
	tx.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 487, "Request Terminated", nil)
	if cs := res.CSeq(); cs != nil {
		cs.MethodName = sip.INVITE
	}
	if to := res.To(); to != nil && tag != "" {
		to.Params.Add("tag", tag) // replaces the tag NewResponseFromRequest made up
	}
	if h := tx.tab.f.s.serverHeader(); h != nil {
		res.AppendHeader(h)
	}
	tx.Respond(res)
	for _, f := range cbs {
		f(req)
	}
}

// terminate ends the transaction; the table keeps it for keep (to absorb
// retransmissions) when it has a response to absorb them with.
func (tx *inviteTx) terminate(err error, keep time.Duration) {
	tx.mu.Lock()
	if tx.state == txTerminated {
		tx.mu.Unlock()
		return
	}
	tx.state = txTerminated
	if tx.err == nil {
		tx.err = err
	}
	err = tx.err
	if tx.timer != nil {
		tx.timer.Stop()
	}
	cbs := tx.onTerm
	tx.onTerm, tx.onCancel = nil, nil
	close(tx.done)
	if tx.last == nil {
		keep = 0
	}
	tx.mu.Unlock()
	tx.expires.Store(time.Now().Add(keep).UnixNano())
	if keep == 0 {
		tx.tab.remove(tx.key, tx)
	}
	for _, f := range cbs {
		f(tx.key, err)
	}
}

// handlerDone is called when the INVITE's handler has returned: with no
// final response sent, the transaction ends (as sipgo's
// TerminateGracefully does).
func (tx *inviteTx) handlerDone() {
	tx.mu.Lock()
	open := tx.state == txProceeding
	tx.mu.Unlock()
	if open {
		tx.terminate(sip.ErrTransactionTerminated, 0)
	}
}

// Terminate implements sip.ServerTransaction.
func (tx *inviteTx) Terminate() { tx.terminate(sip.ErrTransactionTerminated, retransTTL) }

// OnTerminate implements sip.ServerTransaction.
func (tx *inviteTx) OnTerminate(f sip.FnTxTerminate) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.state == txTerminated {
		return false
	}
	tx.onTerm = append(tx.onTerm, f)
	return true
}

// OnCancel implements sip.ServerTransaction.
func (tx *inviteTx) OnCancel(f sip.FnTxCancel) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.state == txTerminated {
		return false
	}
	tx.onCancel = append(tx.onCancel, f)
	return true
}

// Done implements sip.ServerTransaction.
func (tx *inviteTx) Done() <-chan struct{} { return tx.done }

// Err implements sip.ServerTransaction.
func (tx *inviteTx) Err() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.err
}

// Acks implements sip.ServerTransaction: the ACK of a non-2xx response.
func (tx *inviteTx) Acks() <-chan *sip.Request { return tx.acks }

var _ sip.ServerTransaction = (*inviteTx)(nil)

// inviteTable holds the fast path's INVITE transactions by key (txKey with
// method INVITE).
type inviteTable struct {
	f      *fastPath
	shards [cacheShards]struct {
		mu sync.Mutex
		m  map[string]*inviteTx
	}
}

func newInviteTable(f *fastPath) *inviteTable {
	t := &inviteTable{f: f}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*inviteTx)
	}
	return t
}

// get finds the transaction of key, if it is still known.
func (t *inviteTable) get(key string) *inviteTx {
	sh := &t.shards[shard(key)]
	sh.mu.Lock()
	tx := sh.m[key]
	sh.mu.Unlock()
	return tx
}

// add stores a new transaction built by mk, or returns the existing one
// (a retransmission) with false.
func (t *inviteTable) add(key string, mk func() *inviteTx) (*inviteTx, bool) {
	sh := &t.shards[shard(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if tx, ok := sh.m[key]; ok {
		return tx, false
	}
	tx := mk()
	sh.m[key] = tx
	return tx, true
}

func (t *inviteTable) remove(key string, tx *inviteTx) {
	sh := &t.shards[shard(key)]
	sh.mu.Lock()
	if sh.m[key] == tx {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
}

// sweep forgets transactions whose retention has passed; an Accepted one
// is terminated then (its OnTerminate callbacks run, as at sipgo's
// Timer L).
func (t *inviteTable) sweep(ctx context.Context) {
	var expired []*inviteTx
	everySecond(ctx, func(now int64) {
		for i := range t.shards {
			sh := &t.shards[i]
			sh.mu.Lock()
			for k, tx := range sh.m {
				if e := tx.expires.Load(); e != 0 && e <= now {
					delete(sh.m, k)
					expired = append(expired, tx)
				}
			}
			sh.mu.Unlock()
		}
		for i, tx := range expired {
			tx.terminate(nil, 0)
			expired[i] = nil
		}
		expired = expired[:0]
	})
}
