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

	// channel round trips: unbuffered, and with a one-value buffer
	for _, capacity := range []int{0, 1} {
		fmt.Printf("go channel round trip (cap %d)   : %8.1f ns\n", capacity, roundTrip(capacity, n))
	}

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

// roundTrip sends n values to a goroutine and waits for each answer, over
// two channels of the given capacity; it returns ns per round trip.
func roundTrip(capacity, n int) float64 {
	ping, pong := make(chan int, capacity), make(chan int, capacity)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	t := float64(time.Since(t0).Nanoseconds()) / float64(n)
	close(ping)
	return t
}
