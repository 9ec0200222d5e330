// Peer figures for bench_core: the same measurements with goroutines.
// Run with GOMAXPROCS=1 (bench/run-bench.sh does).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n * int64(os.Getpagesize())
}

func main() {
	// create+exit
	const n = 2000000
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		runtime.Gosched()
	}
	wg.Wait()
	fmt.Printf("go goroutine create+exit        : %8.1f ns\n", float64(time.Since(t0).Nanoseconds())/n)

	// unbuffered channel round trip
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	t0 = time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	fmt.Printf("go channel round trip           : %8.1f ns\n", float64(time.Since(t0).Nanoseconds())/n)
	close(ping)

	// 100,000 timers
	const nt = 100000
	timers := make([]*time.Timer, nt)
	t0 = time.Now()
	for i := 0; i < nt; i++ {
		timers[i] = time.AfterFunc(time.Duration(1000+(i*7919)%100000)*time.Millisecond, func() {})
	}
	for i := 0; i < nt; i++ {
		timers[i].Stop()
	}
	fmt.Printf("go 100,000 timers add+stop      : %8.2f ms\n", float64(time.Since(t0).Microseconds())/1000)

	// idle goroutine memory
	block := make(chan struct{})
	before := rss()
	for i := 0; i < nt; i++ {
		go func() { <-block }()
	}
	runtime.Gosched()
	after := rss()
	fmt.Printf("go memory per idle goroutine    : %8.2f KiB resident\n", float64(after-before)/nt/1024)
	close(block)
}
