package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// Server serves a Registry on a unix socket.
type Server struct {
	reg  *Registry
	log  *slog.Logger
	path string

	mu       sync.Mutex
	ln       net.Listener
	sessions map[*session]struct{}
	wg       sync.WaitGroup
}

// NewServer prepares a console server for reg on the socket path.
func NewServer(reg *Registry, path string, log *slog.Logger) *Server {
	return &Server{reg: reg, path: path, log: log.With("component", "cli"), sessions: map[*session]struct{}{}}
}

// Listen creates the socket (mode 0600: the console is root's, as Asterisk's).
func (s *Server) Listen() error {
	if c, err := net.DialTimeout("unix", s.path, 200*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("cli: %s: another gopbx is running on this data directory", s.path)
	}
	os.Remove(s.path)
	ln, err := net.Listen("unix", s.path)
	if err != nil {
		return fmt.Errorf("cli: listen %s: %w", s.path, err)
	}
	if err := os.Chmod(s.path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("cli: chmod %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Serve accepts console sessions until ctx ends or Close is called.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("cli: accept: %w", err)
		}
		sess := &session{conn: c}
		s.mu.Lock()
		if s.ln == nil {
			// Closed meanwhile: Close may already be in wg.Wait, and an
			// Add after that races with it.
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.sessions[sess] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(ctx, sess)
			s.mu.Lock()
			delete(s.sessions, sess)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, ends sessions and removes the socket.
func (s *Server) Close() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
		os.Remove(s.path)
	}
	for sess := range s.sessions {
		sess.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Broadcast sends text to every attached console (traces, verbose logs).
func (s *Server) Broadcast(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sess := range s.sessions {
		sess.write('a', []byte(text))
	}
}

type session struct {
	mu   sync.Mutex
	conn net.Conn
}

func (se *session) write(typ byte, p []byte) error {
	se.mu.Lock()
	defer se.mu.Unlock()
	se.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := fmt.Fprintf(se.conn, "%c %d\n%s", typ, len(p), p)
	return err
}

func (s *Server) handle(ctx context.Context, se *session) {
	defer se.conn.Close()
	br := bufio.NewReader(se.conn)
	for {
		typ, payload, err := readFrame(br)
		if err != nil {
			return
		}
		if typ != 'c' {
			continue
		}
		var out bytes.Buffer
		err = s.reg.Exec(ctx, &out, string(payload))
		if out.Len() > 0 {
			if se.write('o', out.Bytes()) != nil {
				return
			}
		}
		end := "ok"
		if err != nil {
			end = err.Error()
		}
		if se.write('e', []byte(end)) != nil {
			return
		}
	}
}

// readFrame reads "<type> <len>\n<payload>".
func readFrame(br *bufio.Reader) (byte, []byte, error) {
	head, err := br.ReadString('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(head) < 4 || head[1] != ' ' {
		return 0, nil, fmt.Errorf("cli: bad frame header %q", head)
	}
	n, err := strconv.Atoi(head[2 : len(head)-1])
	if err != nil || n < 0 || n > 64<<20 {
		return 0, nil, fmt.Errorf("cli: bad frame length %q", head)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	return head[0], p, nil
}
