package media

import (
	"net/netip"
	"time"

	"github.com/gopbx/gopbx/internal/kfwd"
)

// In-kernel forwarding (rtp.conf kernelforward=yes): once both legs of a
// bridge are latched and their packets would be relayed untouched (same
// codec and payload types, no SRTP, no in-band DTMF detection), the pair
// is handed to the kernel (package kfwd) and stops costing user-space CPU
// per packet. Anything that needs the packets again (a re-INVITE, the
// bridge breaking, the call ending, a latched address moving) takes the
// pair back first.

// kpair is a bridge forwarded in the kernel.
type kpair struct {
	a, b   *Stream
	la, lb kfwd.Leg
	br     *kfwd.Bridge
	flows  [2]kfwd.Flow
	seen   [2]uint64 // the kernel's packet counts already credited
}

// kernelEligible reports whether s's packets to peer go out untouched.
func kernelEligible(s, peer *Stream, n, pn *neg) bool {
	return pn.pt == n.pt && pn.dtmfPT == n.dtmfPT && pn.codec.Name() == n.codec.Name() &&
		s.det == nil && peer.det == nil && !s.opts.SRTP && !peer.opts.SRTP
}

// maybeOffload runs on s's reader after it relayed a packet to peer.
func (s *Stream) maybeOffload(peer *Stream, n, pn *neg) {
	m := s.mgr
	if kp := s.koff.Load(); kp != nil {
		// A packet reached us although the pair is in the kernel: either
		// one queued before it was, or the far end moved and latching
		// took the new source, which the kernel's entry does not match.
		if cur, ok := s.sess.Remote(); ok && cur != kp.legOf(s).Remote {
			m.takeBack(kp)
		}
		return
	}
	if !kernelEligible(s, peer, n, pn) || s.kwant.Load() || s.kfailed.Load() {
		return
	}
	if _, _, ok := m.latchedReachable(s, peer); !ok {
		return
	}
	if !s.kwant.CompareAndSwap(false, true) {
		return
	}
	select {
	case m.kreqs <- s:
	default:
		s.kwant.Store(false) // busy: the next packet asks again
	}
}

func (kp *kpair) legOf(s *Stream) kfwd.Leg {
	if s == kp.a {
		return kp.la
	}
	return kp.lb
}

// latchedReachable returns both far ends' latched addresses when both are
// latched and the kernel can forward between them: one family (IPv4 or
// IPv6) for both far ends and our two sockets, which must be bound to an
// address (the kernel's entries name it), not a wildcard.
func (m *Manager) latchedReachable(s, peer *Stream) (ra, rb netip.AddrPort, ok bool) {
	ra, oka := s.sess.Latched()
	rb, okb := peer.sess.Latched()
	if !oka || !okb {
		return ra, rb, false
	}
	la, lb := s.sess.Local().Addr(), peer.sess.Local().Addr()
	ok = !la.Unmap().IsUnspecified() && !lb.Unmap().IsUnspecified() &&
		kfwd.Pairable(ra.Addr(), rb.Addr()) && kfwd.Pairable(ra.Addr(), la) && kfwd.Pairable(rb.Addr(), lb) &&
		m.kf.Reachable(ra.Addr()) && m.kf.Reachable(rb.Addr())
	return ra, rb, ok
}

// kernelWorker installs pairs off the packet path, as many as are asking
// in one netlink transaction (when thousands of calls start together,
// user space relays all of them until their pairs are in).
func (m *Manager) kernelWorker() {
	defer close(m.kdone)
	var batch []*Stream
	for {
		select {
		case s := <-m.kreqs:
			batch = append(batch[:0], s)
		more:
			for len(batch) < kernelBatch {
				select {
				case s := <-m.kreqs:
					batch = append(batch, s)
				default:
					break more
				}
			}
			m.offload(batch)
			for _, s := range batch {
				s.kwant.Store(false)
			}
		case <-m.kstop:
			return
		}
	}
}

// kernelBatch bounds a transaction (4 elements a bridge).
const kernelBatch = 128

func (m *Manager) offload(streams []*Stream) {
	m.kmu.Lock()
	defer m.kmu.Unlock()
	var kps []*kpair
	var pairs [][2]kfwd.Leg
	for _, s := range streams {
		if kp := m.checkLocked(s, kps); kp != nil {
			kps, pairs = append(kps, kp), append(pairs, [2]kfwd.Leg{kp.la, kp.lb})
		}
	}
	if len(kps) == 0 {
		return
	}
	brs, err := m.kf.AddBatch(pairs)
	if err != nil && len(kps) > 1 {
		// One refused entry fails the whole transaction: one by one.
		for _, kp := range kps {
			if kp.br, err = m.kf.Add(kp.la, kp.lb); err != nil {
				m.refusedLocked(kp, err)
				continue
			}
			m.storeLocked(kp)
		}
		return
	}
	if err != nil {
		m.refusedLocked(kps[0], err)
		return
	}
	for i, kp := range kps {
		kp.br = brs[i]
		m.storeLocked(kp)
	}
}

// checkLocked returns the pair to install for s, or nil when it is no
// longer eligible, already in, or in this batch already (through its peer).
func (m *Manager) checkLocked(s *Stream, batch []*kpair) *kpair {
	peer := s.peer.Load()
	if peer == nil || peer.peer.Load() != s || s.closed.Load() || peer.closed.Load() ||
		s.koff.Load() != nil || peer.koff.Load() != nil {
		return nil
	}
	for _, kp := range batch {
		if kp.a == s || kp.b == s {
			return nil
		}
	}
	n, pn := s.neg.Load(), peer.neg.Load()
	if n == nil || pn == nil || !kernelEligible(s, peer, n, pn) {
		return nil
	}
	ra, rb, ok := m.latchedReachable(s, peer) // latched again since the request?
	if !ok {
		return nil
	}
	kp := &kpair{a: s, b: peer, la: kfwd.Leg{Remote: ra, Local: s.sess.Local()}, lb: kfwd.Leg{Remote: rb, Local: peer.sess.Local()}}
	kp.flows = kfwd.Flows(kp.la, kp.lb)
	return kp
}

// kernelSlack is added to the relatch time of offloaded sessions: the
// counters are read once a second (Run), so lastRecv may lag that much.
const kernelSlack = time.Second

func (m *Manager) storeLocked(kp *kpair) {
	m.kpairs[kp] = struct{}{}
	kp.a.koff.Store(kp)
	kp.b.koff.Store(kp)
	kp.a.sess.SetRelatchSlack(kernelSlack)
	kp.b.sess.SetRelatchSlack(kernelSlack)
	m.log.Debug("RTP forwarded in the kernel", "a", kp.la.Remote, "b", kp.lb.Remote)
}

// refusedLocked: not again for these streams until new terms are
// negotiated.
func (m *Manager) refusedLocked(kp *kpair, err error) {
	kp.a.kfailed.Store(true)
	kp.b.kfailed.Store(true)
	m.log.Warn("RTP stays in user space", "err", err)
}

// takeBack returns s's pair, if any, to user space. It looks under kmu,
// which the worker holds from its checks to storing the pair: a change
// made before the call (peer gone, new terms) either stopped the worker's
// offload or is seen here with the pair stored.
func (s *Stream) takeBack() {
	m := s.mgr
	if m.kf == nil {
		return
	}
	m.kmu.Lock()
	defer m.kmu.Unlock()
	if kp := s.koff.Load(); kp != nil {
		m.takeBackLocked(kp)
	}
}

func (m *Manager) takeBack(kp *kpair) {
	m.kmu.Lock()
	defer m.kmu.Unlock()
	m.takeBackLocked(kp)
}

func (m *Manager) takeBackLocked(kp *kpair) {
	if _, ok := m.kpairs[kp]; !ok {
		return
	}
	delete(m.kpairs, kp)
	if err := m.kf.Remove(kp.br); err != nil {
		m.log.Warn("RTP in-kernel forwarding not removed", "err", err)
	}
	kp.a.koff.CompareAndSwap(kp, nil)
	kp.b.koff.CompareAndSwap(kp, nil)
	kp.a.sess.SetRelatchSlack(0)
	kp.b.sess.SetRelatchSlack(0)
}

// syncKernel credits what the kernel forwarded since the last call to the
// sessions' counters and last-received times (the RTP timeout's clock).
func (m *Manager) syncKernel() {
	m.kmu.Lock()
	defer m.kmu.Unlock()
	if len(m.kpairs) == 0 {
		return
	}
	cs, err := m.kf.Counters()
	if err != nil {
		m.log.Warn("RTP in-kernel counters", "err", err)
		return
	}
	for kp := range m.kpairs {
		m.creditLocked(kp, cs)
	}
}

// creditLocked credits kp with the counts in cs. (Reading one pair's
// counters alone is not possible, so a pair taken back loses at most the
// last second's counts.)
func (m *Manager) creditLocked(kp *kpair, cs map[kfwd.Flow]uint64) {
	for i, st := range [2]*Stream{kp.a, kp.b} {
		n := cs[kp.flows[i]]
		if n <= kp.seen[i] {
			continue
		}
		other := kp.b
		if i == 1 {
			other = kp.a
		}
		st.sess.CreditKernel(n-kp.seen[i], 0)
		other.sess.CreditKernel(0, n-kp.seen[i])
		kp.seen[i] = n
	}
}
