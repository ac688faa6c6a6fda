package gosubif_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/gosubif"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "GosubIf") }
