// bench/server-go: the design tally replaces, as a peer for bench/server.
//
// One long-running Go net/http process holding the aggregates in a map behind an
// atomically swapped pointer, every body pre-serialized and the Content-Type header value
// pre-allocated, so a request costs a map lookup and a write. bench/server runs it with
// GOMAXPROCS=1 on its one core. It serves the endpoints bench/server measures:
//
//	GET /v1/views/sales                        the whole view (pre-rendered); with
//	                                           Accept-Encoding: gzip, its pre-compressed
//	                                           bytes (tallyd's own) and Content-Encoding
//	GET /v1/views/sales/rows/{region}/{product} one row (tallyd's bytes)
//	GET /v1/views/sales/rows/{region}          every row of a region (issue 13's prefix
//	                                           lookup; pre-rendered per region)
//
// Data: a file of lines "region<TAB>product<TAB>row body", one of lines
// "region<TAB>prefix body", the whole-view body file and its gzip (tallyd's gzip body),
// all written by bench/server. SIGHUP reloads them.
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
	view   []byte
	viewGz []byte
	rows   map[string][]byte
	prefix map[string][]byte
}

var (
	jsonType = []string{"application/json; charset=utf-8"}
	gzipEnc  = []string{"gzip"}
	varyEnc  = []string{"Accept-Encoding"}
)

var current atomic.Pointer[data]

// readTSV calls fn with the n tab-separated fields of every line of path
func readTSV(path string, n int, fn func([][]byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if parts := bytes.SplitN(sc.Bytes(), []byte{'\t'}, n); len(parts) == n {
			fn(parts)
		}
	}
	return sc.Err()
}

func load(viewPath, viewGzPath, rowsPath, prefixPath string) (*data, error) {
	view, err := os.ReadFile(viewPath)
	if err != nil {
		return nil, err
	}
	viewGz, err := os.ReadFile(viewGzPath)
	if err != nil {
		return nil, err
	}
	d := &data{view: view, viewGz: viewGz, rows: make(map[string][]byte, 32768), prefix: make(map[string][]byte)}
	err = readTSV(rowsPath, 3, func(p [][]byte) {
		d.rows[string(p[0])+"/"+string(p[1])] = append([]byte(nil), p[2]...)
	})
	if err != nil {
		return nil, err
	}
	err = readTSV(prefixPath, 2, func(p [][]byte) {
		d.prefix[string(p[0])] = append([]byte(nil), p[1]...)
	})
	return d, err
}

const rowsPrefix = "/v1/views/sales/rows/"

func handle(w http.ResponseWriter, r *http.Request) {
	d := current.Load()
	h := w.Header()
	h["Content-Type"] = jsonType
	if r.URL.Path == "/v1/views/sales" {
		h["Vary"] = varyEnc
		// a substring test, not q-values: every client of the bench sends plain "gzip"
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h["Content-Encoding"] = gzipEnc
			w.Write(d.viewGz)
			return
		}
		w.Write(d.view)
		return
	}
	if strings.HasPrefix(r.URL.Path, rowsPrefix) {
		key := r.URL.Path[len(rowsPrefix):]
		if body, ok := d.rows[key]; ok {
			w.Write(body)
			return
		}
		if body, ok := d.prefix[key]; ok {
			w.Write(body)
			return
		}
	}
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"error":"not found","status":404}`))
}

func main() {
	if len(os.Args) != 6 {
		log.Fatalf("usage: %s ADDR VIEW.json VIEW.json.gz ROWS.tsv PREFIX.tsv", os.Args[0])
	}
	d, err := load(os.Args[2], os.Args[3], os.Args[4], os.Args[5])
	if err != nil {
		log.Fatal(err)
	}
	current.Store(d)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if d, err := load(os.Args[2], os.Args[3], os.Args[4], os.Args[5]); err == nil {
				current.Store(d)
			}
		}
	}()
	log.Fatal(http.ListenAndServe(os.Args[1], http.HandlerFunc(handle)))
}
