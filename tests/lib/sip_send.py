#!/usr/bin/env python3
"""Sends one SIP request over UDP and prints the status line of the final
answer ("timeout" after --wait seconds). For tests that need a request a
real UA would not send (a stranger, Max-Forwards 0, broken headers).

usage: sip_send.py LOCAL_IP NODE_IP:PORT METHOD REQUEST_URI FROM_URI [HEADER...]
"""
import socket
import sys
import uuid

local_ip, node, method, ruri, from_uri, *extra = sys.argv[1:]
node_ip, node_port = node.rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((local_ip, 0))
port = s.getsockname()[1]
headers = {
    "Via": f"SIP/2.0/UDP {local_ip}:{port};branch=z9hG4bK-{uuid.uuid4().hex[:12]}",
    "Max-Forwards": "70",
    "From": f"<{from_uri}>;tag={uuid.uuid4().hex[:8]}",
    "To": f"<{ruri}>",
    "Call-ID": uuid.uuid4().hex,
    "CSeq": f"1 {method}",
    "Contact": f"<sip:test@{local_ip}:{port}>",
}
for header in extra:  # "Name: value" replaces or adds a header
    name, value = header.split(":", 1)
    headers[name.strip()] = value.strip()
text = f"{method} {ruri} SIP/2.0\r\n"
text += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
text += "Content-Length: 0\r\n\r\n"
s.sendto(text.encode(), (node_ip, int(node_port)))
s.settimeout(3)
try:
    while True:
        answer = s.recv(65535).decode(errors="replace")
        if not answer.startswith("SIP/2.0 1"):
            print(answer.split("\r\n")[0])
            break
except socket.timeout:
    print("timeout")
