package dialplan

import (
	"strings"
	"time"
)

// maxIncludeDepth is AST_PBX_MAX_STACK.
const maxIncludeDepth = 128

// query is pbx_find_info: the contexts already searched, so include loops
// end, and the time timed includes are checked against.
type query struct {
	visited []string
	now     time.Time
}

func (q *query) seen(ctx string) bool {
	for _, v := range q.visited {
		if strings.EqualFold(v, ctx) {
			return true
		}
	}
	return false
}

// find is pbx_find_extension: the first extension of ctxName, then of its
// includes (depth first, in order, timed ones only when valid), that
// matches exten in mode, accepts callerID and has the priority (prio > 0)
// or label (label != ""). prio 0 and no label return the extension alone.
func (d *Dialplan) find(q *query, ctxName, exten string, prio int, label, callerID string, mode matchMode) (*Extension, *Priority) {
	if len(q.visited) >= maxIncludeDepth || q.seen(ctxName) {
		return nil, nil
	}
	c := d.byName[ctxName]
	if c == nil {
		return nil, nil
	}
	for _, e := range c.Extensions {
		m := extMatch(e.exten, exten, mode)
		if m == 0 || (e.HasCID && !matchCID(e.cid, callerID)) {
			continue
		}
		if m == 2 && mode == matchMore {
			// An extension ending in '!' matched: the decision is final
			// for this context.
			return nil, nil
		}
		switch {
		case label != "":
			if p := e.Label(label); p != nil {
				return e, p
			}
		case prio > 0:
			if p := e.Priority(prio); p != nil {
				return e, p
			}
		default:
			return e, nil
		}
	}
	q.visited = append(q.visited, c.Name)
	for _, inc := range c.Includes {
		if inc.Time != nil && !inc.Time.Match(q.now) {
			continue
		}
		if e, p := d.find(q, inc.Context, exten, prio, label, callerID, mode); e != nil {
			return e, p
		}
	}
	return nil, nil
}

func (d *Dialplan) lookup(now time.Time, ctxName, exten string, prio int, label, callerID string, mode matchMode) (*Extension, *Priority) {
	return d.find(&query{now: now}, ctxName, exten, prio, label, callerID, mode)
}

// Match finds the extension a call to exten in context would run, the way
// Asterisk's ast_exists_extension(context, exten, 1, callerID) does: the
// context's own extensions first (exact names before patterns, the most
// specific pattern first), then its includes in order, depth first. The
// extension must have a priority 1. callerID is the caller's number, for
// extensions written exten/callerid.
func (d *Dialplan) Match(context, exten, callerID string) (*Extension, bool) {
	e, p := d.lookup(time.Now(), context, exten, 1, "", callerID, matchExact)
	return e, p != nil
}

// CanMatch reports whether exten matches an extension now or could with
// more digits (ast_canmatch_extension).
func (d *Dialplan) CanMatch(context, exten, callerID string) bool {
	_, p := d.lookup(time.Now(), context, exten, 1, "", callerID, canMatch)
	return p != nil
}

// MatchMore reports whether exten could match an extension if more digits
// were dialled (ast_matchmore_extension). A SIP driver answers an INVITE
// whose Request-URI user does not Match with 484 Address Incomplete when
// MatchMore is true and 404 Not Found otherwise.
func (d *Dialplan) MatchMore(context, exten, callerID string) bool {
	_, p := d.lookup(time.Now(), context, exten, 1, "", callerID, matchMore)
	return p != nil
}

// Exists reports whether context,exten,priority exists for callerID.
func (d *Dialplan) Exists(context, exten string, priority int, callerID string) bool {
	_, p := d.lookup(time.Now(), context, exten, priority, "", callerID, matchExact)
	return p != nil
}
