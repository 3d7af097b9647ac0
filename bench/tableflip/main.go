// A minimal HTTP server that restarts with cloudflare/tableflip on SIGHUP, as build/bench.sh runs
// it side by side with GracefulHosting. It answers every request with its pid.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cloudflare/tableflip"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	pidFile := flag.String("pid-file", "", "file that names the serving process")
	flag.Parse()

	upg, err := tableflip.New(tableflip.Options{PIDFile: *pidFile})
	if err != nil {
		log.Fatal(err)
	}
	defer upg.Stop()

	go func() {
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGHUP)
		for range signals {
			if err := upg.Upgrade(); err != nil {
				log.Println("upgrade failed:", err)
			}
		}
	}()

	listener, err := upg.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	body := fmt.Sprintf("Hello from tableflip, pid=%d\n", os.Getpid())
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, body)
	})}
	go server.Serve(listener)

	if err := upg.Ready(); err != nil {
		log.Fatal(err)
	}
	<-upg.Exit()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server.Shutdown(ctx)
}
