package noop_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/noop"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "NoOp") }
