package macro_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/macro"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Macro") }
