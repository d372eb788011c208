#!/usr/bin/env python3
"""Checks that users resolve through a core node: sends a MESSAGE to each
sip:USER@DOMAIN through NODE and answers, as the users' registered contact,
the MESSAGEs the node forwards to CONTACT_IP:PORT (every user's binding must
point there, with the user as the contact's user part). A user resolves when
its MESSAGE reaches the contact under its own name and the 200 OK comes back.
Users that do not resolve are tried again, once a second, until --deadline.
Prints one JSON line: node, resolved, unresolved (list), misrouted, statuses
(final answers other than 200, by code), seconds.

usage: sip_resolve.py SENDER_IP CONTACT_IP:PORT NODE_IP:PORT USERS_FILE [DOMAIN] [--deadline SECONDS]
"""
import json
import select
import socket
import sys
import time
import uuid

args = [a for a in sys.argv[1:] if not a.startswith("--")]
deadline_s = 10.0
if "--deadline" in sys.argv:
    deadline_s = float(sys.argv[sys.argv.index("--deadline") + 1])
    args.remove(sys.argv[sys.argv.index("--deadline") + 1])
sender_ip, contact, node, users_file = args[:4]
domain = args[4] if len(args) > 4 else "ims.test"
contact_ip, contact_port = contact.rsplit(":", 1)
node_ip, node_port = node.rsplit(":", 1)
users = [line.strip() for line in open(users_file) if line.strip()]

uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uac.bind((sender_ip, 0))
uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uas.bind((contact_ip, int(contact_port)))
uac_port = uac.getsockname()[1]


def parse(data):
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    headers = []
    for line in head[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return head[0], headers


def header(headers, name):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return ""


def message(user, call_id):
    ruri = f"sip:{user}@{domain}"
    return (f"MESSAGE {ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {sender_ip}:{uac_port};branch=z9hG4bK-{uuid.uuid4().hex[:16]};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:probe@elsewhere.test>;tag={uuid.uuid4().hex[:8]}\r\n"
            f"To: <{ruri}>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: 1 MESSAGE\r\n"
            f"Content-Type: text/plain\r\n"
            f"Content-Length: 5\r\n\r\nhello").encode()


def answer(data, source):
    """The contact's side: 200 OK to the forwarded MESSAGE; returns the request's user."""
    start, headers = parse(data)
    parts = start.split()
    if len(parts) < 3 or parts[2] != "SIP/2.0":
        return None
    lines = ["SIP/2.0 200 OK"]
    for name, value in headers:
        if name.lower() in ("via", "v"):
            lines.append(f"Via: {value}")
    lines.append(f"From: {header(headers, 'From')}")
    lines.append(f"To: {header(headers, 'To')};tag=uas{uuid.uuid4().hex[:6]}")
    lines.append(f"Call-ID: {header(headers, 'Call-ID')}")
    lines.append(f"CSeq: {header(headers, 'CSeq')}")
    lines.append("Content-Length: 0")
    uas.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), source)
    if parts[0] != "MESSAGE":
        return None
    uri = parts[1]
    return uri.split(":", 1)[1].split("@", 1)[0] if "@" in uri else ""


started = time.monotonic()
deadline = started + deadline_s
pending = set(users)
resolved = set()
statuses = {}
misrouted = 0
arrived = {}  # call id -> the user part the contact saw
while pending and time.monotonic() < deadline:
    calls = {}
    for user in sorted(pending):
        call_id = uuid.uuid4().hex
        calls[call_id] = user
        uac.sendto(message(user, call_id), (node_ip, int(node_port)))
        # answer what arrived meanwhile, so a large batch does not overflow the buffer
        while select.select([uas], [], [], 0)[0]:
            data, source = uas.recvfrom(65535)
            got = answer(data, source)
            start, headers = parse(data)
            arrived[header(headers, "Call-ID")] = got
    round_end = min(deadline, time.monotonic() + 1.0)
    # retransmit the round's requests once after 0.5 s (UDP on a loaded machine)
    resend_at = time.monotonic() + 0.5
    while calls and time.monotonic() < round_end:
        if resend_at and time.monotonic() >= resend_at:
            for call_id, user in calls.items():
                uac.sendto(message(user, call_id), (node_ip, int(node_port)))
            resend_at = 0
        ready = select.select([uac, uas], [], [], 0.05)[0]
        if uas in ready:
            data, source = uas.recvfrom(65535)
            got = answer(data, source)
            start, headers = parse(data)
            arrived[header(headers, "Call-ID")] = got
        if uac in ready:
            data, _ = uac.recvfrom(65535)
            start, headers = parse(data)
            parts = start.split()
            call_id = header(headers, "Call-ID")
            if len(parts) < 2 or call_id not in calls or not parts[1].isdigit():
                continue
            code = int(parts[1])
            if code < 200:
                continue
            user = calls.pop(call_id)
            if code == 200 and arrived.get(call_id) == user:
                pending.discard(user)
                resolved.add(user)
            elif code == 200:
                misrouted += 1
            else:
                statuses[str(code)] = statuses.get(str(code), 0) + 1
print(json.dumps({"node": node, "resolved": len(resolved), "unresolved": sorted(pending), "misrouted": misrouted,
                  "statuses": statuses, "seconds": round(time.monotonic() - started, 2)}))
sys.exit(0 if not pending and not misrouted else 1)
