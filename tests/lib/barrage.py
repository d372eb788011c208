#!/usr/bin/env python3
"""A bounded barrage of hostile traffic at one port: mutated and random SIP
datagrams, random datagrams, or broken HTTP over TCP. Stops after COUNT
messages or SECONDS, whichever comes first; prints one JSON summary line.

usage: barrage.py LOCAL_IP TARGET_IP:PORT KIND COUNT SECONDS [SEED]
KIND: sip (mutated SIP requests and responses, 1 in 10 random bytes)
      bytes (random datagrams of 1 to 1,400 bytes)
      http (TCP connections carrying broken or random HTTP requests)
"""
import json
import os
import random
import socket
import sys
import time

local_ip, target, kind, count, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
host, port = target.rsplit(":", 1)
port = int(port)

SDP = ("v=0\r\no=- 1 1 IN IP4 {me}\r\ns=-\r\nc=IN IP4 {me}\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")


def message(me, sport):
    """A well-formed SIP message the mutations start from."""
    tag, call, branch = rng.getrandbits(32), rng.getrandbits(64), rng.getrandbits(48)
    method = rng.choice(["REGISTER", "INVITE", "MESSAGE", "OPTIONS", "SUBSCRIBE", "BYE", "ACK", "CANCEL",
                         "PRACK", "UPDATE", "NOTIFY", "INFO", "PUBLISH", "REFER", "FOO"])
    user = f"u{rng.randrange(50)}"
    via = f"Via: SIP/2.0/UDP {me}:{sport};branch=z9hG4bK{branch:x};rport"
    common = [via, f"Max-Forwards: {rng.choice([70, 1, 0])}", f"From: <sip:{user}@ims.test>;tag={tag:x}",
              f"To: <sip:u{rng.randrange(50)}@ims.test>", f"Call-ID: {call:x}@{me}",
              f"Contact: <sip:{user}@{me}:{sport}>"]
    if rng.random() < 0.25:  # a response to a transaction the target never started
        code, reason = rng.choice([(100, "Trying"), (180, "Ringing"), (200, "OK"), (401, "Unauthorized"),
                                   (487, "Request Terminated"), (503, "Service Unavailable")])
        lines = [f"SIP/2.0 {code} {reason}"] + common + [f"CSeq: {rng.randrange(1, 9)} {method}"]
        body = ""
    else:
        uri = f"sip:{user}@ims.test" if method != "REGISTER" else "sip:ims.test"
        lines = [f"{method} {uri} SIP/2.0"] + common + [f"CSeq: {rng.randrange(1, 2**31)} {method}"]
        if method == "REGISTER":
            lines.append(f"Expires: {rng.choice([0, 60, 3600, 4294967295])}")
            if rng.random() < 0.5:
                lines.append(f'Authorization: Digest username="{user}@ims.test", realm="ims.test", '
                             f'nonce="{os.urandom(16).hex()}", uri="sip:ims.test", response="{os.urandom(16).hex()}"')
        body = SDP.format(me=me) if method in ("INVITE", "UPDATE", "PRACK") else ""
        if method == "MESSAGE":
            body = "hello " * rng.randrange(1, 50)
        if body:
            lines.append("Content-Type: " + ("application/sdp" if "v=0" in body else "text/plain"))
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def mutate(data):
    """One to four random changes of the kinds parsers get wrong."""
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(10)
        lines = data.split(b"\r\n")
        if op == 0 and data:  # flip bytes
            b = bytearray(data)
            for _ in range(rng.randrange(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            data = bytes(b)
        elif op == 1 and data:  # truncate
            data = data[:rng.randrange(len(data))]
        elif op == 2 and len(lines) > 2:  # drop a line
            del lines[rng.randrange(1, len(lines))]
            data = b"\r\n".join(lines)
        elif op == 3 and len(lines) > 2:  # repeat a line
            i = rng.randrange(1, len(lines))
            lines[i:i] = [lines[i]] * rng.randrange(1, 30)
            data = b"\r\n".join(lines)
        elif op == 4:  # a long header
            lines.insert(1, b"X-" + os.urandom(4).hex().encode() + b": " + b"A" * rng.choice([100, 4000, 30000]))
            data = b"\r\n".join(lines)
        elif op == 5:  # a lying Content-Length
            data = data.replace(b"Content-Length: ", b"Content-Length: " + str(rng.choice(
                [1, 99999, 2**32, -1])).encode() + b"0", 1)
        elif op == 6:  # numbers out of range
            data = data.replace(b"CSeq: ", b"CSeq: " + rng.choice([b"-", b"99999999999999999999", b"0x"]), 1)
        elif op == 7 and data:  # NUL and control bytes inside
            i = rng.randrange(len(data))
            data = data[:i] + rng.choice([b"\0", b"\r", b"\n\n", b"\x7f", b"\xff\xfe"]) + data[i:]
        elif op == 8:  # two messages in one datagram
            data = data + data
        elif op == 9:  # broken separators
            data = data.replace(b"\r\n\r\n", rng.choice([b"\r\n", b"\n\n", b"\r\r", b""]), 1)
    return data[:65000]


def drain(sock, answers):
    while True:
        try:
            data = sock.recv(65535)
        except (BlockingIOError, ConnectionRefusedError):
            return
        first = data.split(b"\r\n", 1)[0]
        key = first[8:11].decode(errors="replace") if first.startswith(b"SIP/2.0 ") else "other"
        answers[key] = answers.get(key, 0) + 1


def datagrams(kind, answers):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((local_ip, 0))
    sock.setblocking(False)
    sport = sock.getsockname()[1]
    sent, start = 0, time.monotonic()
    while sent < count and time.monotonic() - start < seconds:
        if kind == "bytes" or rng.random() < 0.1:
            data = rng.randbytes(rng.randrange(1, 1401))
        else:
            data = mutate(message(local_ip, sport))
        try:
            sock.sendto(data, (host, port))
            sent += 1
        except BlockingIOError:
            time.sleep(0.001)
        except ConnectionRefusedError:  # an ICMP error from an earlier datagram
            pass
        if sent % 64 == 0:
            drain(sock, answers)
    time.sleep(0.2)
    drain(sock, answers)
    return sent, time.monotonic() - start


def http_request():
    choice = rng.randrange(6)
    if choice == 0:
        return os.urandom(rng.randrange(1, 4000))
    if choice == 1:  # headers without end
        return b"POST /license HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * rng.randrange(1, 20000)
    if choice == 2:  # a body shorter than announced
        return b"POST /license HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"kids\":["
    if choice == 3:  # broken JSON
        body = rng.choice([b"{", b"[]", b"{\"kids\":[1,2,3]}", b"\xff\xfe", b"{\"kids\":\"" + b"A" * 5000 + b"\"}"])
        return b"POST /license HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + \
            str(len(body)).encode() + b"\r\n\r\n" + body
    if choice == 4:  # a bad Authorization header
        return (b"POST /license HTTP/1.1\r\nHost: x\r\nAuthorization: Digest username=\"" + os.urandom(8).hex().encode() +
                b"\", nonce=\"" + b"=" * rng.randrange(1, 300) + b"\"\r\nContent-Length: 2\r\n\r\n{}")
    return rng.choice([b"GET / HTTP/1.1\r\n\r\n", b"BREW /pot HTTP/9.9\r\n\r\n", b"\r\n\r\n\r\n",
                       b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"])


def connections(answers):
    sent, start = 0, time.monotonic()
    while sent < count and time.monotonic() - start < seconds:
        try:
            with socket.create_connection((host, port), timeout=2, source_address=(local_ip, 0)) as sock:
                sock.sendall(http_request())
                sock.shutdown(socket.SHUT_WR)
                reply = sock.recv(64)
                key = reply[9:12].decode(errors="replace") if reply.startswith(b"HTTP/1.") else "other"
        except OSError as error:
            key = type(error).__name__
        answers[key] = answers.get(key, 0) + 1
        sent += 1
    return sent, time.monotonic() - start


answers = {}
sent, elapsed = connections(answers) if kind == "http" else datagrams(kind, answers)
print(json.dumps({"kind": kind, "target": target, "sent": sent, "seconds": round(elapsed, 2), "answers": answers}))
