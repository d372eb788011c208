#!/usr/bin/env python3
"""Sends raw datagrams to a SIP or DHT port: broken messages a real UA never
sends. Prints the first line of each answer, or "no answer" after --wait.

usage: sip_raw.py LOCAL_IP TARGET_IP:PORT CASE [WAIT_SECONDS]
CASE: truncated | bad-header | oversized | content-length | garbage | no-via | binary
"""
import os
import socket
import sys
import uuid

local_ip, target, case = sys.argv[1:4]
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 1.5
ip, port = target.rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((local_ip, 0))
me = f"{local_ip}:{s.getsockname()[1]}"


def request(extra="", body="", content_length=None, via=True):
    lines = [f"MESSAGE sip:bob@ims.test SIP/2.0"]
    if via:
        lines.append(f"Via: SIP/2.0/UDP {me};branch=z9hG4bK-{uuid.uuid4().hex[:12]}")
    lines += ["Max-Forwards: 70", f"From: <sip:dave@elsewhere.test>;tag={uuid.uuid4().hex[:8]}",
              "To: <sip:bob@ims.test>", f"Call-ID: {uuid.uuid4().hex}", "CSeq: 1 MESSAGE"]
    if extra:
        lines.append(extra)
    length = len(body) if content_length is None else content_length
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


cases = {
    "truncated": lambda: request()[:60],
    "bad-header": lambda: request(extra="CSeq: banana MESSAGE\r\nVia: ???"),
    "oversized": lambda: request(extra="X-Padding: " + "a" * 60000),
    "content-length": lambda: request(body="hello", content_length=5000),
    "garbage": lambda: os.urandom(700),
    "no-via": lambda: request(via=False),
    "binary": lambda: b"\x00\xff" * 100 + request(),
}
s.sendto(cases[case](), (ip, int(port)))
s.settimeout(wait)
try:
    print(s.recv(65535).decode(errors="replace").split("\r\n")[0])
except socket.timeout:
    print("no answer")
