module github.com/aio-go/aio/bench/http-server

go 1.26.0

require (
	github.com/aio-go/aio v0.0.0
	github.com/aio-go/aio/aiohttp v0.0.0
)

require (
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace (
	github.com/aio-go/aio => ../..
	github.com/aio-go/aio/aiohttp => ../../aiohttp
)
