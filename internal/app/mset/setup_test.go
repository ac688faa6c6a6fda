package mset_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/mset"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "MSet") }
