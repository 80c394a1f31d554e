// Package taskctx lets aionet's net.Conn adapter wait with the context the
// calling task runs under now (its innermost aio.Timeout scope), so that
// standard library code given a Conn is bounded by the scope around it
// without an extra call. It owns one function variable, set by package aio
// when it is initialised, and nothing else.
package taskctx

import "context"

// Current returns the context of the innermost scope of the task running on
// loop (an *aio.Loop) now, or nil if no task runs. Call it only from that
// task.
var Current func(loop any) context.Context
