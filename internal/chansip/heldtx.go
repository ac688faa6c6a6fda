package chansip

import (
	"errors"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// errTxReleased answers calls on a releasableTx after release.
var errTxReleased = errors.New("chansip: INVITE transaction already completed")

// releasableTx is the INVITE server transaction as sipgo's dialog session
// sees it. sipgo's DialogServerSession keeps its transaction for the whole
// dialog, and with it the original INVITE and every response sent: about
// 3 KB of a held call's memory, of no use once the 200 is ACKed (RFC 3261
// §17.2.1: a 2xx ends the INVITE server transaction). After release the
// dialog holds only this small value; the transaction itself lives on in
// its table (the UDP fast path's, or sipgo's for TCP/TLS/WS) until its
// retention ends.
//
// The dialog's OnTerminate and OnCancel callbacks are kept here too, and
// the transaction gets small forwarders to them: the callbacks hold the
// whole dialog session (and through its state callbacks the leg and the
// channel), and the transaction outlives the answer in its table
// (retransTTL, or sipgo's Timer L). Released, the forwarders find nothing
// and the call's memory goes with the call; sipgo's callbacks only act
// before the dialog is established anyway.
type releasableTx struct {
	mu       sync.Mutex
	tx       sip.ServerTransaction // nil once released
	onTerm   []sip.FnTxTerminate
	onCancel []sip.FnTxCancel
}

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (r *releasableTx) get() sip.ServerTransaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tx
}

// release drops the transaction and the callbacks registered on it.
func (r *releasableTx) release() {
	r.mu.Lock()
	r.tx = nil
	r.onTerm, r.onCancel = nil, nil
	r.mu.Unlock()
}

func (r *releasableTx) Terminate() {
	if tx := r.get(); tx != nil {
		tx.Terminate()
	}
}

func (r *releasableTx) OnTerminate(f sip.FnTxTerminate) bool {
	tx, get := keep(r, &r.onTerm, f)
	if tx == nil {
		return false
	}
	return tx.OnTerminate(func(key string, err error) {
		if f := get(); f != nil {
			f(key, err)
		}
	})
}

// keep stores callback f in list (one of r's) while r holds its
// transaction, and returns the transaction (nil once released) and what
// the forwarder registered on it calls: f until release, then nil.
func keep[F any](r *releasableTx, list *[]F, f F) (sip.ServerTransaction, func() F) {
	r.mu.Lock()
	tx, i := r.tx, len(*list)
	if tx != nil {
		*list = append(*list, f)
	}
	r.mu.Unlock()
	return tx, func() F {
		r.mu.Lock()
		defer r.mu.Unlock()
		var f F
		if i < len(*list) {
			f = (*list)[i]
		}
		return f
	}
}

func (r *releasableTx) Done() <-chan struct{} {
	if tx := r.get(); tx != nil {
		return tx.Done()
	}
	return closedDone
}

func (r *releasableTx) Err() error {
	if tx := r.get(); tx != nil {
		return tx.Err()
	}
	return nil
}

func (r *releasableTx) Respond(res *sip.Response) error {
	if tx := r.get(); tx != nil {
		return tx.Respond(res)
	}
	return errTxReleased
}

func (r *releasableTx) Acks() <-chan *sip.Request {
	if tx := r.get(); tx != nil {
		return tx.Acks()
	}
	return nil
}

func (r *releasableTx) OnCancel(f sip.FnTxCancel) bool {
	tx, get := keep(r, &r.onCancel, f)
	if tx == nil {
		return false
	}
	return tx.OnCancel(func(req *sip.Request) {
		if f := get(); f != nil {
			f(req)
		}
	})
}

var _ sip.ServerTransaction = (*releasableTx)(nil)
