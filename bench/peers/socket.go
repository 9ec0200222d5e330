// The same figures as bench/bench_socket.c, from Go (run with GOMAXPROCS=1).
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func measure(conns int, size int, duration time.Duration) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for i := 0; i < conns; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}(c)
		}
		ln.Close()
	}()
	var total int64
	var wg sync.WaitGroup
	t0 := time.Now()
	end := t0.Add(duration)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				panic(err)
			}
			defer c.Close()
			buf := make([]byte, size)
			var trips int64
			for time.Now().Before(end) {
				for j := 0; j < 100; j++ {
					if _, err := c.Write(buf); err != nil {
						panic(err)
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						panic(err)
					}
					trips++
				}
			}
			atomic.AddInt64(&total, trips)
		}()
	}
	wg.Wait()
	return float64(total) / time.Since(t0).Seconds()
}

func main() {
	d := 1.0
	if len(os.Args) > 1 {
		d, _ = strconv.ParseFloat(os.Args[1], 64)
	}
	dur := time.Duration(d * float64(time.Second))
	fmt.Printf("go tcp echo round trips, 1 conn, 8 B: %10.0f /s\n", measure(1, 8, dur))
	fmt.Printf("go ping-pong 1 KiB, 100 conns       : %10.0f /s\n", measure(100, 1024, dur))
}
