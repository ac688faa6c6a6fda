package cdr_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/cdr"
	"github.com/gopbx/gopbx/internal/storage/storagetest"
)

func TestMemoryStore(t *testing.T) {
	storagetest.TestCDRStore(t, func(*testing.T) cdr.Store { return &cdr.Memory{} })
}
