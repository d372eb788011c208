#!/usr/bin/env python3
"""Writes the WAV files ims-call's tests send: wav.py OUT KIND [SECONDS]
KIND: pcm16 (8 kHz mono 16-bit), ulaw, alaw (8 kHz mono G.711), pcm16-44k,
stereo, u8 (8-bit unsigned PCM), float (32-bit float)."""
import math, struct, sys

out, kind = sys.argv[1], sys.argv[2]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
rate = 44100 if kind == "pcm16-44k" else 8000
channels = 2 if kind == "stereo" else 1
n = int(rate * seconds)
samples = [int(8000 * math.sin(2 * math.pi * 1000 * i / rate)) for i in range(n)]

def ulaw(s):  # G.711 mu-law, the segment encoder
    sign = 0x80 if s < 0 else 0
    s = min(abs(s), 32635) + 0x84
    exp = 7
    mask = 0x4000
    while exp > 0 and not s & mask:
        exp -= 1
        mask >>= 1
    return ~(sign | exp << 4 | (s >> (exp + 3)) & 0x0F) & 0xFF

def alaw(s):
    v, mask = s >> 3, 0xD5
    if v < 0:
        v, mask = -v - 1, 0x55
    ends = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]
    seg = next((i for i, e in enumerate(ends) if v <= e), 8)
    if seg == 8:
        return 0x7F ^ mask
    code = seg << 4 | ((v >> 1) if seg < 2 else (v >> seg)) & 0x0F
    return code ^ mask

if kind in ("pcm16", "pcm16-44k", "stereo"):
    fmt_tag, bits = 1, 16
    data = b"".join(struct.pack("<h", s) * channels for s in samples)
elif kind == "ulaw":
    fmt_tag, bits, data = 7, 8, bytes(ulaw(s) for s in samples)
elif kind == "alaw":
    fmt_tag, bits, data = 6, 8, bytes(alaw(s) for s in samples)
elif kind == "u8":
    fmt_tag, bits, data = 1, 8, bytes((s >> 8) + 128 for s in samples)
elif kind == "float":
    fmt_tag, bits, data = 3, 32, b"".join(struct.pack("<f", s / 32768) for s in samples)
else:
    sys.exit(f"unknown kind {kind}")
block = channels * bits // 8
fmt_chunk = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
if fmt_tag != 1:  # non-PCM formats carry cbSize (and WAVE_FORMAT_* needs a fact chunk)
    fmt_chunk += struct.pack("<H", 0)
chunks = b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
if fmt_tag != 1:
    chunks += b"fact" + struct.pack("<II", 4, n)
chunks += b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
with open(out, "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)
