// bench/server-go: the design tally replaces, as a peer for bench/server.
//
// One long-running Go net/http process holding the aggregates in a map behind an
// atomically swapped pointer, every row pre-serialized. It serves the same two
// endpoints bench/server measures, with byte-identical bodies:
//
//	GET /v1/views/sales                        the whole view (pre-rendered)
//	GET /v1/views/sales/rows/{region}/{product} one row
//
// Data: a file of lines "region<TAB>product<TAB>row body" and the whole-view body file,
// both written by bench/server from tallyd's own responses. SIGHUP reloads them.
package main

import (
	"bufio"
	"bytes"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
)

type data struct {
	view []byte
	rows map[string][]byte
}

var current atomic.Pointer[data]

func load(viewPath, rowsPath string) (*data, error) {
	view, err := os.ReadFile(viewPath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(rowsPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := &data{view: view, rows: make(map[string][]byte, 32768)}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		parts := bytes.SplitN(sc.Bytes(), []byte{'\t'}, 3)
		if len(parts) != 3 {
			continue
		}
		d.rows[string(parts[0])+"/"+string(parts[1])] = append([]byte(nil), parts[2]...)
	}
	return d, sc.Err()
}

const rowsPrefix = "/v1/views/sales/rows/"

func handle(w http.ResponseWriter, r *http.Request) {
	d := current.Load()
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if r.URL.Path == "/v1/views/sales" {
		w.Write(d.view)
		return
	}
	if strings.HasPrefix(r.URL.Path, rowsPrefix) {
		if body, ok := d.rows[r.URL.Path[len(rowsPrefix):]]; ok {
			w.Write(body)
			return
		}
	}
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"error":"not found","status":404}`))
}

func main() {
	if len(os.Args) != 4 {
		log.Fatalf("usage: %s ADDR VIEW.json ROWS.tsv", os.Args[0])
	}
	d, err := load(os.Args[2], os.Args[3])
	if err != nil {
		log.Fatal(err)
	}
	current.Store(d)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if d, err := load(os.Args[2], os.Args[3]); err == nil {
				current.Store(d)
			}
		}
	}()
	log.Fatal(http.ListenAndServe(os.Args[1], http.HandlerFunc(handle)))
}
