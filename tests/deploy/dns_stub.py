#!/usr/bin/env python3
"""A minimal DNS server for the deploy tests: answers A queries for NAME with 127.0.0.1 and
every other query with no record (NOERROR), on UDP ADDRESS:53, until killed.

usage: dns_stub.py ADDRESS NAME
"""
import socket
import struct
import sys

address, name = sys.argv[1], sys.argv[2].lower().rstrip(".")
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind((address, 53))
print("dns_stub: listening", flush=True)
while True:
    query, client = server.recvfrom(512)
    ident, _flags, questions = struct.unpack("!HHH", query[:6])
    # The question: labels up to the zero byte, then type and class.
    end = query.index(b"\0", 12) + 5
    labels, offset = [], 12
    while query[offset]:
        length = query[offset]
        labels.append(query[offset + 1 : offset + 1 + length].decode().lower())
        offset += 1 + length
    qtype = struct.unpack("!H", query[offset + 1 : offset + 3])[0]
    answers = b""
    if ".".join(labels) == name and qtype == 1:
        # A pointer to the question's name, type A, class IN, TTL 60, 4 bytes: 127.0.0.1.
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1 if answers else 0, 0, 0)
    server.sendto(header + query[12:end] + answers, client)
