// Command observability prints the OpenTelemetry spans of one checkout: an Ecster payment
// created through a Router, paid, its notification handled, captured and refunded, all
// against the in-process fake, with otelpaykit's hooks on the client, the Router and the
// webhook handler. It needs no network and no credentials:
//
//	go run ./examples/observability
//
// The spans go to the stdout exporter as JSON, one object per span, children before their
// parents (a span is exported when it ends); a summary of the tree and the metrics follows.
package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/otelpaykit"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "observability:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// OpenTelemetry: spans to stdout (and kept for the summary), metrics read at the end.
	exporter, err := stdouttrace.New(stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	kept := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter), sdktrace.WithSpanProcessor(kept))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()

	// One *paykit.Hooks for every part of paykit.
	hooks, err := otelpaykit.NewHooks(otelpaykit.WithTracerProvider(tp), otelpaykit.WithMeterProvider(mp))
	if err != nil {
		return err
	}

	fake := ecstertest.NewServer(ecstertest.Config{})
	defer fake.Close()
	client, err := ecster.New(ecster.Config{
		APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL,
		ShopTermsURL: "https://shop.example/terms", NotifySecret: "demo-notify-secret",
	}, paykit.WithHooks(hooks))
	if err != nil {
		return err
	}
	router, err := paykit.NewRouter([]paykit.Provider{client},
		[]paykit.Route{{Name: "sweden", Match: paykit.Match{Currencies: []string{"SEK"}}, Providers: []string{ecster.ProviderName}}},
		paykit.WithRouterHooks(hooks))
	if err != nil {
		return err
	}
	notified := make(chan struct{}, 8)
	// The Router's handlers get its hooks unless WithWebhookHooks gives others.
	shop := httptest.NewServer(router.WebhookHandler("/webhooks", func(context.Context, *paykit.Notification) error {
		notified <- struct{}{}
		return nil
	}))
	defer shop.Close()

	sek := func(a int64) paykit.Money { return paykit.Money{Amount: a, Currency: "SEK"} }
	pay, err := router.CreatePayment(ctx, paykit.PaymentRequest{
		Amount:    sek(129900),
		Items:     []paykit.Item{{Reference: "TENT-2P", Name: "Tent", Quantity: 1, UnitAmount: sek(129900), VATRate: 2500}},
		NotifyURL: shop.URL + "/webhooks/{provider}",
	})
	if err != nil {
		return err
	}
	if _, err := fake.Pay(pay.ID); err != nil {
		return err
	}
	select {
	case <-notified:
	case <-ctx.Done():
		return ctx.Err()
	}
	if _, err := router.Capture(ctx, pay.ID, paykit.Money{}, paykit.IdempotencyKey("shipment-1")); err != nil {
		return err
	}
	if _, err := router.Refund(ctx, pay.ID, sek(10000), paykit.IdempotencyKey("return-1")); err != nil {
		return err
	}
	if err := fake.WaitDelivered(ctx, pay.ID); err != nil {
		return err
	}

	fmt.Println("\n== the span tree")
	printTree(kept.Ended())
	fmt.Println("\n== metrics")
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		return err
	}
	printMetrics(rm)
	return nil
}

// printTree prints every span under its parent, in the order they started.
func printTree(spans []sdktrace.ReadOnlySpan) {
	sort.Slice(spans, func(i, j int) bool { return spans[i].StartTime().Before(spans[j].StartTime()) })
	byParent := map[string][]sdktrace.ReadOnlySpan{}
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID().String()] = true
	}
	for _, s := range spans {
		p := s.Parent().SpanID().String()
		if !s.Parent().IsValid() || !ids[p] {
			p = ""
		}
		byParent[p] = append(byParent[p], s)
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, s := range byParent[parent] {
			var notes []string
			for _, kv := range s.Attributes() {
				switch kv.Key {
				case "paykit.outcome", "http.response.status_code", "paykit.webhook.verdict", "http.request.resend_count":
					notes = append(notes, string(kv.Key)+"="+kv.Value.Emit())
				}
			}
			for _, e := range s.Events() {
				notes = append(notes, "event "+e.Name)
			}
			fmt.Printf("%s%s  [%s]\n", strings.Repeat("  ", depth), s.Name(), strings.Join(notes, " "))
			walk(s.SpanContext().SpanID().String(), depth+1)
		}
	}
	walk("", 0)
}

// printMetrics prints each counter's total and each histogram's count of recordings.
func printMetrics(rm metricdata.ResourceMetrics) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					fmt.Printf("%s {%s} = %d\n", m.Name, attrText(dp.Attributes), dp.Value)
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					fmt.Printf("%s {%s}: %d recorded\n", m.Name, attrText(dp.Attributes), dp.Count)
				}
			}
		}
	}
}

// attrText is a set of attributes as "key=value, …".
func attrText(set attribute.Set) string {
	var parts []string
	for _, kv := range set.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.Emit())
	}
	return strings.Join(parts, ", ")
}
