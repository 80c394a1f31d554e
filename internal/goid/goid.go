// Package goid identifies the calling goroutine, cheaply: the loop's objects
// use it to tell their own tasks from other goroutines. It owns nothing else
// and must not be used to store state per goroutine.
package goid
