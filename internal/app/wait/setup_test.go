package wait_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/wait"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Wait") }
