package aionet_test

import (
	"os"
	"os/signal"
	"testing"
)

func TestMain(m *testing.M) {
	// os/signal starts a goroutine of its own, for good, at its first use
	// (aio.Run listens for interrupts): start it before the leak checks count.
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	signal.Stop(c)
	os.Exit(m.Run())
}
