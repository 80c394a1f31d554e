module github.com/aio-go/aio

go 1.26
