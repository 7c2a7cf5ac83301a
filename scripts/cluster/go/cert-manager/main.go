/*
Command cert-manager-controller runs cert-manager's real controllers (from the
github.com/cert-manager/cert-manager module, unmodified) with a small entry point
of our own. Upstream's cmd/controller is a separate Go module (controller-binary)
that the module proxy cannot serve, so this file re-does the wiring of
upstream's cmd/controller/app/controller.go for the controllers that a
SelfSigned/CA setup needs:

  certificates-{trigger,issuing,key-manager,request-manager,readiness,revision-manager,metrics}
  certificaterequests-approver, certificaterequests-issuer-{selfsigned,ca}
  issuers, clusterissuers

The module path lies under github.com/cert-manager/cert-manager/ so that, like
upstream's controller-binary module, it may import the root module's internal
packages. The defaults below are upstream's (internal/apis/config/controller/
v1alpha1/defaults.go); that package is not imported because it pulls in every
issuer, including Venafi's vcert module, which the module proxy does not serve.

Only what this project's local cluster needs is supported: no leader election,
no ACME/Vault/Venafi issuers, no gateway/ingress shims, no webhook.
*/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/util/sets"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	// Controllers: each registers itself with controllerpkg in init().
	crapprover "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	certissuing "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	certkeymanager "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	certmetrics "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	certreadiness "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	certrequestmanager "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	certrevisionmanager "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	certtrigger "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// Issuer implementations used by the issuers/clusterissuers controllers.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

var defaultControllers = []string{
	certtrigger.ControllerName,
	certissuing.ControllerName,
	certkeymanager.ControllerName,
	certrequestmanager.ControllerName,
	certreadiness.ControllerName,
	certrevisionmanager.ControllerName,
	certmetrics.ControllerName,
	crapprover.ControllerName,
	crselfsigned.CRControllerName,
	crca.CRControllerName,
	issuers.ControllerName,
	clusterissuers.ControllerName,
}

type options struct {
	kubeconfig               string
	master                   string
	namespace                string
	clusterResourceNamespace string
	leaderElect              bool
	controllers              []string
	metricsAddr              string
	healthzAddr              string
	workers                  int
	enableOwnerRef           bool
	logging                  *logsapi.LoggingConfiguration
}

func main() {
	logf.InitLogs()
	defer logf.FlushLogs()
	if err := run(); err != nil {
		klog.ErrorS(err, "cert-manager-controller failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func run() error {

	o := options{logging: logsapi.NewLoggingConfiguration()}
	fs := pflag.NewFlagSet("cert-manager-controller", pflag.ContinueOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to a kubeconfig.")
	fs.StringVar(&o.master, "master", "", "Address of the Kubernetes API server (overrides the kubeconfig).")
	fs.StringVar(&o.namespace, "namespace", "", "Only watch this namespace (default: all).")
	fs.StringVar(&o.clusterResourceNamespace, "cluster-resource-namespace", "kube-system",
		"Namespace holding the Secrets referenced by ClusterIssuers.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Only false is supported by this build.")
	fs.StringSliceVar(&o.controllers, "controllers", defaultControllers, "Controllers to run.")
	fs.StringVar(&o.metricsAddr, "metrics-listen-address", "127.0.0.1:9402", "Prometheus metrics address; empty or 0 disables.")
	fs.StringVar(&o.healthzAddr, "healthz-listen-address", "127.0.0.1:9403", "Address of /healthz, /livez and /readyz; empty or 0 disables.")
	fs.IntVar(&o.workers, "concurrent-workers", 5, "Workers per controller.")
	fs.BoolVar(&o.enableOwnerRef, "enable-certificate-owner-ref", false,
		"Make Certificates owners of their Secrets.")
	logf.AddFlags(o.logging, fs)
	fs.AddGoFlagSet(flag.CommandLine)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := logf.ValidateAndApply(o.logging); err != nil {
		return err
	}
	if o.leaderElect {
		return errors.New("--leader-elect=true is not supported by this build; run a single replica with --leader-elect=false")
	}
	known := controllerpkg.Known()
	for _, c := range o.controllers {
		if _, ok := known[c]; !ok {
			return fmt.Errorf("unknown controller %q (this build has: %s)", c, strings.Join(sortedKeys(known), ", "))
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := klog.Background().WithName("cert-manager")
	ctx = logf.NewContext(ctx, log, "controller")
	log.Info("starting cert-manager controller", "version", util.AppVersion, "controllers", o.controllers)

	ctxOpts := controllerpkg.ContextOptions{
		APIServerHost:      o.master,
		Kubeconfig:         o.kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Namespace:          o.namespace,
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace:        o.clusterResourceNamespace,
			ClusterIssuerAmbientCredentials: true,
			IssuerAmbientCredentials:        false,
		},
		IngressShimOptions: controllerpkg.IngressShimOptions{
			GatewayAPIExtraProtocols: sets.New[string](),
		},
		CertificateOptions: controllerpkg.CertificateOptions{
			EnableOwnerRef:                           o.enableOwnerRef,
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: 1 * time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	}
	factory, err := controllerpkg.NewContextFactory(ctx, ctxOpts)
	if err != nil {
		return fmt.Errorf("building controller context: %w", err)
	}
	cctx, err := factory.Build()
	if err != nil {
		return fmt.Errorf("building controller context: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	var ready atomic.Bool

	if o.metricsAddr != "" && o.metricsAddr != "0" {
		ln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		srv := cctx.Metrics.NewServer(ln)
		g.Go(func() error { return serve(gctx, srv, ln) })
	}
	if o.healthzAddr != "" && o.healthzAddr != "0" {
		ln, err := net.Listen("tcp", o.healthzAddr)
		if err != nil {
			return fmt.Errorf("healthz listener: %w", err)
		}
		mux := http.NewServeMux()
		ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }
		mux.HandleFunc("/livez", ok)
		mux.HandleFunc("/healthz", ok)
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
			if !ready.Load() {
				http.Error(w, "informer caches not synced", http.StatusServiceUnavailable)
				return
			}
			ok(w, r)
		})
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error { return serve(gctx, srv, ln) })
	}

	// Construct every enabled controller first (this registers their informers),
	// then start the informer factories, then run the controllers: the same
	// order as upstream's cmd/controller/app.
	type named struct {
		name string
		c    controllerpkg.Interface
	}
	var ctrls []named
	for _, n := range o.controllers {
		if o.namespace != "" && n == clusterissuers.ControllerName {
			log.Info("not starting controller: scoped to a single namespace", "controller", n)
			continue
		}
		c, err := known[n](factory)
		if err != nil {
			return fmt.Errorf("constructing controller %s: %w", n, err)
		}
		ctrls = append(ctrls, named{n, c})
	}
	var wg sync.WaitGroup
	for _, nc := range ctrls {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			log.Info("starting controller", "controller", nc.name)
			return nc.c.Run(o.workers, gctx)
		})
	}
	cctx.KubeSharedInformerFactory.Start(gctx.Done())
	cctx.SharedInformerFactory.Start(gctx.Done())
	cctx.HTTP01ResourceMetadataInformersFactory.Start(gctx.Done())

	g.Go(func() error {
		for _, synced := range cctx.SharedInformerFactory.WaitForCacheSync(gctx.Done()) {
			if !synced {
				return nil
			}
		}
		for _, synced := range cctx.KubeSharedInformerFactory.WaitForCacheSync(gctx.Done()) {
			if !synced {
				return nil
			}
		}
		ready.Store(true)
		log.Info("informer caches synced; controllers ready")
		return nil
	})

	err = g.Wait()
	log.Info("controllers exited", "err", err)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
