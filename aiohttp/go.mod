module github.com/aio-go/aio/aiohttp

go 1.26.0

require (
	github.com/aio-go/aio v0.0.0
	github.com/gorilla/websocket v1.5.3
	golang.org/x/net v0.62.0
)

require (
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/aio-go/aio => ../
