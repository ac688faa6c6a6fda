package dialplan

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// registrar is what Asterisk prints as the creator of contexts and
// includes loaded from extensions.conf.
const registrar = "pbx_config"

// Show writes the dialplan as Asterisk's "dialplan show [[exten@]context]"
// does: every context (or the one named, or only the extensions matching
// exten in it and what it includes), each extension with its priorities
// and the file:line they come from, then the totals:
//
//	[ Context 'demo' created by 'pbx_config' ]
//	  '600' =>          1. Answer()                                   [extensions.conf:12]
//	                    2. Playback(demo-echotest)                    [extensions.conf:13]
//	  Include =>        'other'                                       [pbx_config]
//
//	-= 2 extensions (3 priorities) in 1 context. =-
//
// An unknown context or an extension that matches nothing is an error.
func (d *Dialplan) Show(w io.Writer, context string) error {
	var exten string
	if i := strings.IndexByte(context, '@'); i >= 0 {
		exten, context = context[:i], context[i+1:]
	}
	bw := bufio.NewWriter(w)
	s := &shower{d: d, w: bw, exten: exten}
	switch {
	case context == "":
		for _, c := range d.contexts {
			s.context(c, false, nil)
		}
	case d.byName[context] == nil:
		return fmt.Errorf("dialplan: there is no existence of '%s' context", context)
	default:
		s.context(d.byName[context], false, []string{context})
	}
	if exten != "" && s.extens == 0 {
		bw.Flush()
		if context != "" {
			return fmt.Errorf("dialplan: there is no existence of %s@%s extension", exten, context)
		}
		return fmt.Errorf("dialplan: there is no existence of '%s' extension in all contexts", exten)
	}
	fmt.Fprintf(bw, "-= %d %s (%d %s) in %d %s. =-\n",
		s.extens, plural(s.extens, "extension", "extensions"),
		s.prios, plural(s.prios, "priority", "priorities"),
		s.contexts, plural(s.contexts, "context", "contexts"))
	return bw.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type shower struct {
	d                       *Dialplan
	w                       *bufio.Writer
	exten                   string
	extens, prios, contexts int
}

func (s *shower) row(left, middle, src string) {
	fmt.Fprintf(s.w, "  %-17s %-45s [%s]\n", left, middle, src)
}

func srcOf(p *Priority) string {
	return fmt.Sprintf("%s:%d", filepath.Base(p.Pos.File), p.Pos.Line)
}

// context is show_dialplan_helper for one context. With an extension
// filter it follows includes (stack holds the contexts already shown).
func (s *shower) context(c *Context, included bool, stack []string) {
	printed := false
	header := func() {
		if printed {
			return
		}
		printed = true
		s.contexts++
		if included {
			fmt.Fprintf(s.w, "[ Included context '%s' created by '%s' ]\n", c.Name, registrar)
		} else {
			fmt.Fprintf(s.w, "[ Context '%s' created by '%s' ]\n", c.Name, registrar)
		}
	}
	if s.exten == "" {
		header()
	}
	for _, e := range c.Extensions {
		if s.exten != "" && !ExtensionMatch(e.Name, s.exten) {
			continue
		}
		header()
		s.extens++
		name := fmt.Sprintf("'%s' =>", e.Name)
		if e.HasCID {
			name = fmt.Sprintf("'%s' (CID match '%s') => ", e.Name, e.CID)
		}
		all := e.Priorities
		if e.Hint != nil {
			all = append([]*Priority{e.Hint}, all...)
		}
		for i, p := range all {
			s.prios++
			left := ""
			switch {
			case i == 0:
				left = name
			case p.Label != "":
				left = "   [" + p.Label + "]"
			}
			mid := fmt.Sprintf("%d. %s(%s)", p.Number, p.App, p.Data)
			if p.Number == PriorityHint {
				mid = "hint: " + p.App
			}
			s.row(left, mid, srcOf(p))
		}
	}
	for _, inc := range c.Includes {
		if s.exten != "" {
			if contains(stack, inc.Context) {
				continue
			}
			if ic := s.d.byName[inc.Context]; ic != nil && len(stack) < maxIncludeDepth {
				s.context(ic, true, append(stack, inc.Context))
			}
			continue
		}
		name := inc.Context
		if inc.Spec != "" {
			name += "," + inc.Spec
		}
		fmt.Fprintf(s.w, "  Include =>        %-45s [%s]\n", "'"+name+"'", registrar)
	}
	for _, ip := range c.IgnorePats {
		if s.exten == "" || ExtensionMatch("_"+ip.Pattern+".", s.exten) {
			fmt.Fprintf(s.w, "  Ignore pattern => %-45s [%s]\n", "'"+ip.Pattern+"'", registrar)
		}
	}
	if !included {
		for _, sw := range c.Switches {
			fmt.Fprintf(s.w, "  Alt. Switch =>    %-45s [%s]\n", "'"+sw.Name+"/"+sw.Data+"'", registrar)
		}
	}
	if printed {
		fmt.Fprintln(s.w)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
