// A minimal HTTP server that restarts with facebookgo/grace on SIGUSR2, as build/bench.sh runs it
// side by side with GracefulHosting. It answers every request with its pid and names itself in a
// pid file, since each restart leaves a new process serving.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/facebookgo/grace/gracehttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	pidFile := flag.String("pid-file", "", "file that names the serving process")
	flag.Parse()

	if *pidFile != "" {
		if err := os.WriteFile(*pidFile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	body := fmt.Sprintf("Hello from grace, pid=%d\n", os.Getpid())
	server := &http.Server{Addr: *listen, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, body)
	})}
	if err := gracehttp.Serve(server); err != nil {
		log.Fatal(err)
	}
}
