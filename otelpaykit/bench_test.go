package otelpaykit_test

import (
	"context"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/otelpaykit"
)

// BenchmarkRoundTrip is one GetPayment (one HTTP GET to the Ecster fake over loopback) with
// no hooks, with otelpaykit over OpenTelemetry's no-op providers, and with the SDK
// recording every span (batched to a discarding exporter) and every metric.
//
//	go test -run '^$' -bench RoundTrip -benchmem -count 6 ./otelpaykit
func BenchmarkRoundTrip(b *testing.B) {
	noop, err := otelpaykit.NewHooks(otelpaykit.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelpaykit.WithMeterProvider(metricnoop.NewMeterProvider()))
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	sdk, err := otelpaykit.NewHooks(otelpaykit.WithTracerProvider(tp), otelpaykit.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		hooks *paykit.Hooks
	}{{"none", nil}, {"noop", noop}, {"sdk", sdk}} {
		b.Run(c.name, func(b *testing.B) {
			fake := ecstertest.NewServer(ecstertest.Config{})
			defer fake.Close()
			client, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey,
				BaseURL: fake.URL, ShopTermsURL: "https://shop.example/terms"}, paykit.WithHooks(c.hooks))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 100, Currency: "SEK"},
				Items: []paykit.Item{{Name: "x", Quantity: 1, UnitAmount: paykit.Money{Amount: 100, Currency: "SEK"}, VATRate: 2500}}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := fake.Pay(pay.ID); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := client.GetPayment(ctx, pay.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
