package aiootel_test

import (
	"context"
	"fmt"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiootel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// A service registers its loops' metrics once; the SDK's readers (an OTLP
// exporter, Prometheus) collect them. Here a manual reader reads them back.
func ExampleObserveLoops() {
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("my-service")
	reg, err := aiootel.ObserveLoops(meter)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Unregister()

	aio.Run(context.Background(), func(ctx context.Context) error {
		for range 3 {
			aio.Go(ctx, func(ctx context.Context) error { return nil })
		}
		aio.Yield(ctx)
		var rm metricdata.ResourceMetrics
		reader.Collect(ctx, &rm)
		for _, m := range rm.ScopeMetrics[0].Metrics {
			if m.Name == "aio.loop.tasks.spawned" {
				fmt.Println(m.Name, m.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
			}
		}
		return nil
	})
	// Output: aio.loop.tasks.spawned 4
}
