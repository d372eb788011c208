#!/usr/bin/env python3
"""A bare SIP UAS over UDP that keeps what arrives by RTP: answers one INVITE
200 OK with a PCMU-only SDP, takes the ACK, collects the RTP payloads until
the BYE (answered 200), then writes them, in sequence order, to OUT.
For tests that check the bytes a caller sends (ims-call --wav).

usage: rtp_sink_uas.py ADDRESS PORT OUT [SECONDS]   (gives up after SECONDS, default 20)
"""
import select, socket, sys, time

address, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deadline = time.time() + (float(sys.argv[4]) if len(sys.argv) > 4 else 20)
sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sip.bind((address, port))
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rtp.bind((address, 0))
open(out + ".ready", "w").close()

def reply(request, peer, status, body=""):
    lines = request.split("\r\n")
    keep = [l for l in lines[1:] if l.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
    keep = [l + ";tag=sink" if l.lower().startswith("to:") and "tag=" not in l else l for l in keep]
    text = f"SIP/2.0 {status}\r\n" + "\r\n".join(keep) + f"\r\nContact: <sip:sink@{address}:{port}>\r\n"
    if body:
        text += "Content-Type: application/sdp\r\n"
    text += f"Content-Length: {len(body)}\r\n\r\n{body}"
    sip.sendto(text.encode(), peer)

packets = {}
done = False
while not done and time.time() < deadline:
    ready, _, _ = select.select([sip, rtp], [], [], 0.2)
    if rtp in ready:
        data = rtp.recv(2048)
        if len(data) > 12 and data[1] & 0x7F == 0:
            packets[int.from_bytes(data[2:4], "big")] = data[12:]
    if sip in ready:
        data, peer = sip.recvfrom(65535)
        request = data.decode(errors="replace")
        method = request.split(" ", 1)[0]
        if method == "INVITE":
            sdp = (f"v=0\r\no=- 1 1 IN IP4 {address}\r\ns=sink\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
                   f"m=audio {rtp.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
            reply(request, peer, "200 OK", sdp)
        elif method == "BYE":
            reply(request, peer, "200 OK")
            done = True
# Sequence numbers start anywhere and may wrap: order by distance from the first.
if packets:
    first = min(packets, key=lambda s: sum(((s - o) & 0xFFFF) > 0x8000 for o in packets))
    with open(out, "wb") as f:
        for seq in sorted(packets, key=lambda s: (s - first) & 0xFFFF):
            f.write(packets[seq])
sys.exit(0 if done else 1)
