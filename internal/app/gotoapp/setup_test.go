package gotoapp_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/gotoapp"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Goto") }
