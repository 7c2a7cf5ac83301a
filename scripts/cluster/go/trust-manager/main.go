/*
Command trust-manager runs trust-manager (github.com/cert-manager/trust-manager,
unmodified packages) with upstream's own flags and wiring
(cmd/trust-manager/app.NewCommand), changed in one respect only: the metrics and
readiness-probe servers bind to --bind-host (default 127.0.0.1) instead of the
hard-coded 0.0.0.0, because this project's local cluster must bind loopback only.
A --metrics-port of 0 disables the metrics server.
*/
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/cert-manager/trust-manager/cmd/trust-manager/app"
	"github.com/cert-manager/trust-manager/cmd/trust-manager/app/options"
	trustapi "github.com/cert-manager/trust-manager/pkg/apis/trust/v1alpha1"
	"github.com/cert-manager/trust-manager/pkg/bundle"
	"github.com/cert-manager/trust-manager/pkg/webhook"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	opts := options.New()
	bindHost := "127.0.0.1"

	cmd := &cobra.Command{
		Use:   "trust-manager",
		Short: "trust-manager (loopback-only build for linkerd-cert-rotator's local cluster)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Complete(); err != nil {
				return err
			}
			tlsOptions, err := app.GetTLSOptions(opts.TLSConfig)
			if err != nil {
				return fmt.Errorf("invalid flags: %s", err.Error())
			}

			log := opts.NewLogger()
			klog.SetLogger(log)
			ctrl.SetLogger(log)

			scheme := runtime.NewScheme()
			utilruntime.Must(clientgoscheme.AddToScheme(scheme))
			utilruntime.Must(trustapi.AddToScheme(scheme))

			metricsAddr := "0"
			if opts.MetricsPort != 0 {
				metricsAddr = fmt.Sprintf("%s:%d", bindHost, opts.MetricsPort)
			}
			mgr, err := ctrl.NewManager(opts.RestConfig, ctrl.Options{
				Scheme:                        scheme,
				LeaderElection:                opts.LeaderElectionConfig.Enabled,
				LeaderElectionID:              "trust-manager-leader-election",
				LeaderElectionReleaseOnCancel: true,
				LeaseDuration:                 &opts.LeaderElectionConfig.LeaseDuration,
				RenewDeadline:                 &opts.LeaderElectionConfig.RenewDeadline,
				ReadinessEndpointName:         opts.ReadyzPath,
				HealthProbeBindAddress:        fmt.Sprintf("%s:%d", bindHost, opts.ReadyzPort),
				WebhookServer: ctrlwebhook.NewServer(ctrlwebhook.Options{
					Port:    opts.Webhook.Port,
					Host:    opts.Webhook.Host,
					CertDir: opts.Webhook.CertDir,
					TLSOpts: tlsOptions,
				}),
				Metrics: server.Options{BindAddress: metricsAddr},
				Cache:   bundle.CacheOpts(opts.Bundle),
			})
			if err != nil {
				return fmt.Errorf("failed to create manager: %w", err)
			}

			if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
				return fmt.Errorf("failed to add webhook ready check: %v", err)
			}
			if err := mgr.AddHealthzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
				return fmt.Errorf("failed to add webhook health check: %v", err)
			}

			ctx := ctrl.SetupSignalHandler()
			logf.IntoContext(ctx, log)

			if err := bundle.SetupWithManager(ctx, mgr, opts.Bundle); err != nil {
				return fmt.Errorf("failed to register Bundle controller: %w", err)
			}
			log.Info("registering webhook endpoints")
			if err := webhook.SetupWebhookWithManager(mgr); err != nil {
				return fmt.Errorf("failed to register webhook: %w", err)
			}
			return mgr.Start(ctx)
		},
	}
	opts = opts.Prepare(cmd)
	cmd.Flags().StringVar(&bindHost, "bind-host", bindHost,
		"Host the metrics and readiness-probe servers bind to (upstream: 0.0.0.0).")
	return cmd
}
