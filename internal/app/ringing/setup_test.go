package ringing_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/ringing"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Ringing") }
