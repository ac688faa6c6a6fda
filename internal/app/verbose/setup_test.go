package verbose_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/verbose"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Verbose") }
