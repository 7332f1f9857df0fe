#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/ and wraps captured engine output as seeds.

    tests/fuzz/make_seeds.py                       # hand-made seeds only
    tests/fuzz/make_seeds.py --mux logs.bin --tty tty.bin --http response.bin

--mux: a non-TTY container's /logs body (multiplexed frames, timestamps=1);
--tty: a TTY container's /logs body (raw, timestamps=1);
--http: a whole HTTP response read from the engine's socket (head and chunked body).
Each target's input starts with a few control bytes (see the comment at the top of its .cpp);
this script prepends them. Existing files are overwritten, nothing is deleted.
"""
import argparse
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(stream, payload):
    return struct.pack(">BxxxI", stream, len(payload)) + payload


TS = b"2026-11-28T00:37:05.054966693Z "
TS2 = b"2026-11-28T00:37:05.054966694Z "
TS3 = b"2026-11-28T00:37:06.000000000Z "


def hand_made():
    # frame decoder: [bound sel][slice seed x3][stop seed] + stream
    good = frame(1, TS + b"hello\n") + frame(2, TS + b"oops\n") + frame(1, b"") + frame(3, b"engine error")
    put("frame_decoder", "two_frames", b"\x06\x00\x00\x01\x02" + good)
    put("frame_decoder", "partial_header", b"\x06\x01\x02\x03\x00" + good + b"\x01\x00\x00")
    put("frame_decoder", "bad_stream", b"\x06\x00\x00\x00\x00" + b"\x04\x00\x00\x00\x00\x00\x00\x00")
    put("frame_decoder", "bad_padding", b"\x06\x00\x00\x00\x00" + b"\x01\x00\x01\x00\x00\x00\x00\x00")
    put("frame_decoder", "over_bound", b"\x02\x00\x00\x00\x00" + frame(1, b"x" * 20))
    put("frame_decoder", "huge_length", b"\x07\x00\x00\x00\x00" + b"\x01\x00\x00\x00\xff\xff\xff\xff" + b"abc")

    # line assembler: [maxLine sel][piece sel][cut][flags] + frames
    la = (frame(1, TS + b"one\n") + frame(2, TS + b"err one\n") + frame(1, TS + b"crlf\r\n")
          + frame(1, TS2 + b"multi\nline\n") + frame(1, TS2 + b"piece-aaaaaaaaaa")
          + frame(1, TS2 + b"piece-bbbbbbbbbb") + frame(1, TS3 + b"end\n")
          + frame(2, TS3 + b"last without newline"))
    put("line_assembler", "mixed_cut3", b"\x06\x04\x03\x00" + la)
    put("line_assembler", "mixed_truncate", b"\x03\x03\x05\x00" + la)
    put("line_assembler", "mixed_margin", b"\x04\x04\x06\x02" + la)
    put("line_assembler", "raw_mode_bad_ts", b"\x06\x06\x00\x01" + la + frame(1, b"no timestamp\n")
        + frame(1, b"2026-11-28T00:37:05+01:00 offset form\n"))
    put("line_assembler", "same_ts_run", b"\x05\x02\x04\x00" + b"".join(
        frame(1, TS + b"same %d\n" % i) for i in range(6)))
    put("line_assembler", "cr_at_cap", b"\x02\x06\x01\x00" + frame(1, TS + b"abc\r") + frame(1, TS + b"\r\n"))

    # timestamp parser: "<warm-up>\n<text>"
    for name, data in [
        ("fixed", TS + b"msg"),
        ("fixed_cached", TS + b"\n" + TS3 + b"x"),
        ("offset", b"2026-11-28T01:37:05.5+01:00 msg"),
        ("short_fraction", b"2026-11-28T00:37:05Z x"),
        ("crash_leap_second_refused", b"2016-12-31T23:59:60.000000000Z x"),
        ("lower_case", b"2026-11-28t00:37:05.054966693z x"),
        ("no_space", b"2026-11-28T00:37:05.054966693Z"),
        ("bad_month", b"2026-13-28T00:37:05.054966693Z x"),
    ]:
        put("timestamp_parser", name, data)

    # raw stream splitter: [piece sel][slice seed x3][stop/maxLine seed] + stream
    tty = (TS + b"hello\r\n" + TS2 + b"x" * 20 + TS2 + b"tail\r\n" + TS3 + b"last piece"
           + b"2026-11-28T00:38:00.000000000Z after restart\r\n")
    put("raw_stream_splitter", "tty_mixed_piece16", b"\x01\x00\x01\x02\x07" + tty)
    put("raw_stream_splitter", "tty_mixed_default", b"\x05\x03\x02\x01\x10" + tty)
    put("raw_stream_splitter", "ts_in_content", b"\x05\x00\x00\x00\x05" + TS + b"says 2026-11-28T00:37:05.054966693Z and 2027-01-01T00:00:00.000000000Z ok\n")
    put("raw_stream_splitter", "garbage", b"\x05\x00\x00\x00\x00" + b"not a timestamp\n")

    # log cursor: text
    for name, data in [
        ("empty", b""),
        ("full", b"v1-1795824000000000000-3-1795824000500000000-1795823999000000000-1-0"),
        ("pending_only", b"v1-0-0-1795824000000000000-0-0-0"),
        ("leading_zeros", b"v1-0001-01-0-0-0-0"),
        ("max", b"v1-9223372036854775807-4294967295-9223372036854775807-9223372036854775807-4294967295-9223372036854775807"),
        ("too_big", b"v1-9223372036854775808-1-0-0-0-0"),
        ("v2", b"v2-1-1-0-0-0-0"),
    ]:
        put("log_cursor", name, data)

    # http response: [slice seed x3][flags] + response
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    put("http_response", "chunked", b"\x00\x00\x01\x00" + head + b"Transfer-Encoding: chunked\r\n\r\n"
        + b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n")
    put("http_response", "content_length", b"\x00\x01\x00\x00" + head + b"Content-Length: 5\r\n\r\nhelloEXTRA")
    put("http_response", "until_close", b"\x01\x00\x00\x00" + head + b"\r\nbody until close")
    put("http_response", "no_content", b"\x00\x00\x00\x00" + b"HTTP/1.1 204 No Content\r\n\r\n")
    # log stream (the follow loop's parser): [slice seed x3][flags] + response
    mux_head = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
    body = frame(1, TS + b"hello\n") + frame(2, TS2 + b"oops\r\n") + frame(1, TS3 + b"two\nlines\n")
    chunked = b"".join(b"%x\r\n" % len(body[i:i + 7]) + body[i:i + 7] + b"\r\n" for i in range(0, len(body), 7))
    put("log_stream", "mux_chunked", b"\x01\x02\x03\x02" + mux_head + b"Transfer-Encoding: chunked\r\n\r\n"
        + chunked + b"0\r\n\r\n")
    put("log_stream", "mux_stop_first", b"\x04\x05\x06\x10" + mux_head + b"\r\n" + body)
    put("log_stream", "tty_until_close", b"\x07\x08\x09\x01" + b"HTTP/1.1 200 OK\r\n\r\n"
        + TS + b"one\r\n" + TS3 + b"last")
    put("log_stream", "not_found", b"\x00\x00\x00\x00" + b"HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n"
        + b'{"message":"gone"}  ')
    put("log_stream", "engine_error_frame", b"\x00\x01\x00\x00" + mux_head + b"\r\n" + frame(1, TS + b"ok\n")
        + frame(3, b"boom"))
    put("http_response", "near_head_limit", b"\x00\x05\x00\x01" + head + b"\r\nx")
    put("http_response", "bad_chunk", b"\x00\x00\x00\x00" + head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")

    # http request: [limits][limit scale][slice seed x2] + request (limits bit 7: the defaults)
    host = b"Host: 127.0.0.1:7070\r\n"
    for name, ctl, data in [
        ("get", b"\x80\x00\x01\x02", b"GET /api/deployments HTTP/1.1\r\n" + host + b"\r\n"),
        ("post_body", b"\x80\x00\x00\x03", b"POST /x HTTP/1.1\r\n" + host
         + b"Content-Length: 5\r\nConnection: close\r\n\r\nhello"),
        ("expect_continue", b"\x80\x00\x02\x00", b"POST /x HTTP/1.1\r\n" + host
         + b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n"),
        ("pipelined", b"\x80\x00\x05\x01", b"GET /a HTTP/1.1\r\n" + host + b"\r\nGET /b?x=1 HTTP/1.1\r\n"
         + host + b"\r\n"),
        ("http10_keep_alive", b"\x80\x00\x00\x00", b"HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        ("bare_lf_blanks", b"\x80\x00\x01\x01", b"\r\nGET /d/x HTTP/1.1\nHost:\t x \nX-E:\n\n"),
        ("chunked", b"\x80\x00\x00\x02", b"POST / HTTP/1.1\r\n" + host
         + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two_lengths", b"\x80\x00\x00\x02", b"POST / HTTP/1.1\r\n" + host
         + b"Content-Length: 1\r\ncontent-length: 2\r\n\r\n"),
        ("folding", b"\x80\x00\x00\x00", b"GET / HTTP/1.1\r\n" + host + b"X-A: 1\r\n  2\r\n\r\n"),
        ("small_limits", b"\x08\x13\x03\x01", b"GET /" + b"a" * 20 + b" HTTP/1.1\r\n" + host
         + b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"),
        ("line_at_limit_cr", b"\x0a\x40\x00\x00", b"GET /1234567 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]:
        put("http_request", name, ctl + data)

    # model: text given to parseRfc3339, parseDuration and isValidDeploymentId
    for name, data in [
        ("rfc3339_nano", b"2026-11-28T00:29:42.123456789Z"),
        ("rfc3339_offset", b"2026-11-28T00:29:42.5-07:30"),
        ("rfc3339_min", b"1677-09-21T00:12:43.145224192Z"),
        ("rfc3339_max", b"2262-04-11T23:47:16.854775807Z"),
        ("feb29", b"2024-02-29T00:00:00Z"),
        ("duration_d", b"7d"), ("duration_ms", b"250ms"), ("duration_bare", b"90"),
        ("duration_big", b"106751d"),
        ("id", b"agent-01_A"), ("id_64", b"a" * 64),
    ]:
        put("model", name, data)

    # query strings
    for name, data in [
        ("log_query", b"since=10&limit=500"),
        ("after_alias", b"after=7&since=7&_=123"),
        ("metrics_rfc3339", b"from=2026-11-28T00:00:00%2B01:00&to=1795824000000"),
        ("escapes", b"a%20b=c%2Fd&&x=%zz"),
        ("last_event_id", b" 42\t"),
        ("target", b"/api/deployments/a/logs?since=1&limit=5000"),
        ("many", b"&".join(b"p%d=%d" % (i, i) for i in range(33))),
    ]:
        put("query", name, data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mux")
    ap.add_argument("--tty")
    ap.add_argument("--http", action="append", default=[])
    a = ap.parse_args()
    hand_made()
    if a.mux:
        mux = open(a.mux, "rb").read()
        base = os.path.basename(a.mux)
        put("frame_decoder", "engine_" + base, b"\x06\x00\x01\x02\x00" + mux)
        put("line_assembler", "engine_" + base, b"\x07\x06\x05\x00" + mux)
        put("line_assembler", "engine_small_caps_" + base, b"\x05\x05\x09\x00" + mux)
    if a.tty:
        tty = open(a.tty, "rb").read()
        base = os.path.basename(a.tty)
        put("raw_stream_splitter", "engine_" + base, b"\x05\x01\x02\x03\x08" + tty)
        put("raw_stream_splitter", "engine_piece64_" + base, b"\x04\x01\x02\x03\x08" + tty[:4096])
    for h in a.http:
        put("http_response", "engine_" + os.path.basename(h), b"\x00\x01\x02\x00" + open(h, "rb").read())


if __name__ == "__main__":
    main()
