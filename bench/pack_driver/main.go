// Command pack_driver calls a policy pack's analyzer as the Pulumi CLI does: grpc-go over a plain
// loopback connection. bench_pack.py marshals the requests and reads the answers; this program only
// sends the bytes it is given and times each call, so the client's own cost is grpc-go's, as the CLI's is.
//
// Usage: pack_driver PORT REQUESTS OUT. REQUESTS holds records (method name, request bytes), each a
// 4-byte big-endian length then the bytes; OUT gets, per record, the call's nanoseconds (8 bytes) and
// the response (length, bytes). A call that fails stops the driver with its status on stderr.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
)

// raw passes the bytes through: the requests are marshalled by the caller, the responses read by it.
type raw struct{}

func (raw) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (raw) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (raw) Name() string { return "proto" } // the content-subtype the server expects

const maxMessage = 1 << 30

func readRecord(r io.Reader) ([]byte, error) {
	var n uint32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: pack_driver PORT REQUESTS OUT")
		os.Exit(2)
	}
	in, err := os.Open(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var methods []string
	var requests [][]byte
	reader := bufio.NewReader(in)
	for {
		method, err := readRecord(reader)
		if err == io.EOF {
			break
		}
		body, err2 := readRecord(reader)
		if err != nil || err2 != nil {
			fmt.Fprintln(os.Stderr, "bad requests file:", err, err2)
			os.Exit(1)
		}
		methods, requests = append(methods, string(method)), append(requests, body)
	}
	conn, err := grpc.Dial("127.0.0.1:"+os.Args[1], grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	// Answers are kept in memory until the end, so writing them does not sit between two timed calls.
	times := make([]int64, len(requests))
	answers := make([][]byte, len(requests))
	for i, body := range requests {
		var reply []byte
		start := time.Now()
		err := conn.Invoke(context.Background(), methods[i], &body, &reply, grpc.ForceCodec(raw{}))
		times[i] = time.Since(start).Nanoseconds()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s (call %d): %v\n", methods[i], i, err)
			os.Exit(1)
		}
		answers[i] = reply
	}
	out, err := os.Create(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(out)
	for i := range answers {
		binary.Write(w, binary.BigEndian, times[i])
		binary.Write(w, binary.BigEndian, uint32(len(answers[i])))
		w.Write(answers[i])
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out.Close()
}
