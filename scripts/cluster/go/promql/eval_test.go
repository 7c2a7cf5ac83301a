// Package promql runs one PromQL test script (PROMQL_TEST_FILE) with Prometheus' own engine and
// test language (promqltest): the e2e suite evaluates the chart's alert expressions with it.
// Built as a test binary (go test -c) because promqltest runs on a testing.TB.
package promql

import (
	"os"
	"testing"

	"github.com/prometheus/prometheus/promql/promqltest"
)

func TestScript(t *testing.T) {
	path := os.Getenv("PROMQL_TEST_FILE")
	if path == "" {
		t.Fatal("PROMQL_TEST_FILE is not set")
	}
	input, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	promqltest.RunTest(t, string(input), engine)
}
