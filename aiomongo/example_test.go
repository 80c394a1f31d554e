package aiomongo_test

import (
	"context"
	"fmt"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiomongo"
	"github.com/aio-go/aio/aiomongo/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The lecture's Motor example, on an embedded server.
func Example() {
	srv, err := embedded.Start(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	err = aio.Run(context.Background(), func(ctx context.Context) error {
		client, err := aiomongo.NewClient(srv.URI()) // AsyncIOMotorClient('localhost', 27017)
		if err != nil {
			return err
		}
		defer client.Disconnect(ctx)
		coll := client.Database("test_database").Collection("test_collection")

		if _, err := coll.InsertOne(ctx, bson.M{"key": "value"}); err != nil { // await ....insert_one({'key': 'value'})
			return err
		}
		noID := options.Find().SetProjection(bson.M{"_id": 0})
		for doc, err := range coll.Find(ctx, bson.M{"key": "value"}, noID).Docs(ctx) { // async for document in ....find(...)
			if err != nil {
				return err
			}
			fmt.Println(doc)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"key": "value"}
}

// A client counting its connections: one opened for the operation, in use
// while it ran, none in use after.
func ExamplePoolCounter() {
	srv, err := embedded.Start(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	err = aio.Run(context.Background(), func(ctx context.Context) error {
		var pool aiomongo.PoolCounter
		client, err := aiomongo.NewClient(srv.URI(), options.Client().
			SetPoolMonitor(&event.PoolMonitor{Event: pool.Event}).
			SetMaxPoolSize(1))
		if err != nil {
			return err
		}
		defer client.Disconnect(ctx)
		coll := client.Database("test_database").Collection("test_collection")
		if _, err := coll.InsertOne(ctx, bson.M{"key": "value"}); err != nil {
			return err
		}
		st := pool.Stats()
		fmt.Printf("open %d, in use %d, waiting %d\n", st.Open, st.InUse, st.Waiting)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// open 1, in use 0, waiting 0
}
