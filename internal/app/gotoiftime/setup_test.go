package gotoiftime_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/gotoiftime"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "GotoIfTime") }
