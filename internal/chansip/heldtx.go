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
type releasableTx struct {
	mu sync.Mutex
	tx sip.ServerTransaction // nil once released
}

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (r *releasableTx) get() sip.ServerTransaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tx
}

// release drops the transaction.
func (r *releasableTx) release() {
	r.mu.Lock()
	r.tx = nil
	r.mu.Unlock()
}

func (r *releasableTx) Terminate() {
	if tx := r.get(); tx != nil {
		tx.Terminate()
	}
}

func (r *releasableTx) OnTerminate(f sip.FnTxTerminate) bool {
	if tx := r.get(); tx != nil {
		return tx.OnTerminate(f)
	}
	return false
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
	if tx := r.get(); tx != nil {
		return tx.OnCancel(f)
	}
	return false
}

var _ sip.ServerTransaction = (*releasableTx)(nil)
