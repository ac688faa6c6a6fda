package returnapp_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/returnapp"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Return") }
