package logapp_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/logapp"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Log") }
