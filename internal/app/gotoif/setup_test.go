package gotoif_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/gotoif"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "GotoIf") }
