#!/usr/bin/env python3
"""Sends COUNT SIP MESSAGE requests over UDP through a proxy at RATE per
second, each to a random user of a list, and times each from the send to
its final answer with the monotonic clock (microsecond resolution, which
sipp's -trace_rtt lacks). Prints one JSON object: sent, ok, failed (by
status or "timeout"), p50/p90/p99/max in ms. No retransmissions: a lost
request counts as a timeout. For benchmarks on loopback.

usage: sip_rtt.py LOCAL_IP PROXY_IP:PORT DOMAIN USERS COUNT RATE [TIMEOUT_S]
  USERS: a file with one user part per line
"""
import json
import random
import selectors
import socket
import sys
import time
import uuid

local_ip, proxy, domain, users_file, count, rate, *rest = sys.argv[1:]
count, rate = int(count), float(rate)
timeout = float(rest[0]) if rest else 5.0
proxy_ip, proxy_port = proxy.rsplit(":", 1)
target = (proxy_ip, int(proxy_port))
users = [line.strip() for line in open(users_file) if line.strip()]

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((local_ip, 0))
s.setblocking(False)
port = s.getsockname()[1]
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ)
tag = uuid.uuid4().hex[:8]

pending = {}   # Call-ID -> send time
latencies = []
failed = {}


def request(n):
    call_id = f"{tag}-{n}"
    user = random.choice(users)
    body = f"message {n}"
    text = (f"MESSAGE sip:{user}@{domain} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {local_ip}:{port};branch=z9hG4bK-{call_id}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:bench@elsewhere.test>;tag={tag}\r\n"
            f"To: <sip:{user}@{domain}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 MESSAGE\r\n"
            "Content-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}")
    return call_id, text.encode()


def receive():
    while True:
        try:
            data = s.recv(65535)
        except BlockingIOError:
            return
        now = time.monotonic()
        head = data.split(b"\r\n", 1)[0].decode(errors="replace")
        if not head.startswith("SIP/2.0 ") or head.startswith("SIP/2.0 1"):
            continue
        call_id = None
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"call-id:") or line.lower().startswith(b"i:"):
                call_id = line.split(b":", 1)[1].strip().decode()
                break
        sent = pending.pop(call_id, None)
        if sent is None:
            continue
        status = head.split()[1]
        if status.startswith("2"):
            latencies.append((now - sent) * 1000)
        else:
            failed[status] = failed.get(status, 0) + 1


start = time.monotonic()
n = 0
while n < count or pending:
    now = time.monotonic()
    if n < count and now >= start + n / rate:
        call_id, data = request(n)
        pending[call_id] = time.monotonic()
        s.sendto(data, target)
        n += 1
        continue
    for call_id, sent in list(pending.items()):
        if now - sent > timeout:
            del pending[call_id]
            failed["timeout"] = failed.get("timeout", 0) + 1
    wait = (start + n / rate - now) if n < count else 0.05
    for _ in sel.select(max(0.0, min(wait, 0.05))):
        receive()

latencies.sort()
q = lambda p: round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 3) if latencies else None
print(json.dumps({"sent": n, "ok": len(latencies), "failed": failed, "p50_ms": q(0.50), "p90_ms": q(0.90),
                  "p99_ms": q(0.99), "max_ms": round(latencies[-1], 3) if latencies else None,
                  "seconds": round(time.monotonic() - start, 2)}))
