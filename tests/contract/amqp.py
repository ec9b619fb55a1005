"""A minimal AMQP 0-9-1 client, so that RabbitMQ's connection, channel and consumer families have something to count:
`python amqp.py PORT QUEUE [MESSAGES]` logs in as guest (loopback only) on 127.0.0.1:PORT, opens one channel with
prefetch 1, publishes MESSAGES persistent messages (default 3) to QUEUE through the default exchange, consumes from
QUEUE without acknowledging, prints "ready" and stays connected until SIGTERM. No client library is needed; only
the handful of frames this uses are implemented (no heartbeats: they are turned off in Tune-Ok).
"""

from __future__ import annotations

import signal
import socket
import struct
import sys

FRAME_END = b"\xce"


def shortstr(text: str) -> bytes:
    data = text.encode()
    return struct.pack("B", len(data)) + data


def longstr(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("RabbitMQ closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def frame(self) -> tuple[int, int, bytes]:
        kind, channel, size = struct.unpack(">BHI", self._read(7))
        payload = self._read(size)
        assert self._read(1) == FRAME_END, "bad frame end"
        return kind, channel, payload

    def expect(self, class_id: int, method_id: int) -> bytes:
        while True:
            kind, _, payload = self.frame()
            if kind != 1:
                continue
            got = struct.unpack(">HH", payload[:4])
            if got == (class_id, method_id):
                return payload[4:]
            if got in ((10, 50), (20, 40)):  # Connection.Close / Channel.Close: the reply text says why
                code, = struct.unpack(">H", payload[4:6])
                raise ConnectionError(f"RabbitMQ closed: {code} {payload[7:7 + payload[6]].decode()}")

    def send(self, kind: int, channel: int, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">BHI", kind, channel, len(payload)) + payload + FRAME_END)

    def method(self, channel: int, class_id: int, method_id: int, args: bytes = b"") -> None:
        self.send(1, channel, struct.pack(">HH", class_id, method_id) + args)


def main() -> None:
    port, queue = int(sys.argv[1]), sys.argv[2]
    messages = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    amqp = Connection(port)
    amqp.sock.sendall(b"AMQP\x00\x00\x09\x01")
    amqp.expect(10, 10)  # Connection.Start
    amqp.method(0, 10, 11, struct.pack(">I", 0) + shortstr("PLAIN") + longstr(b"\0guest\0guest") + shortstr("en_US"))
    channel_max, frame_max, _ = struct.unpack(">HIH", amqp.expect(10, 30)[:8])  # Connection.Tune
    amqp.method(0, 10, 31, struct.pack(">HIH", channel_max, frame_max, 0))
    amqp.method(0, 10, 40, shortstr("/") + shortstr("") + b"\x00")  # Connection.Open
    amqp.expect(10, 41)
    amqp.method(1, 20, 10, shortstr(""))  # Channel.Open
    amqp.expect(20, 11)
    amqp.method(1, 60, 10, struct.pack(">IHB", 0, 1, 0))  # Basic.Qos: prefetch 1
    amqp.expect(60, 11)
    for i in range(messages):
        body = f"order {i}".encode()
        amqp.method(1, 60, 40, struct.pack(">H", 0) + shortstr("") + shortstr(queue) + b"\x00")  # Basic.Publish
        amqp.send(2, 1, struct.pack(">HHQH", 60, 0, len(body), 0x1000) + b"\x02")  # header: delivery-mode 2
        amqp.send(3, 1, body)
    # Basic.Consume, acknowledgements on (no-ack bit clear), none sent: one message stays unacked
    amqp.method(1, 60, 20, struct.pack(">H", 0) + shortstr(queue) + shortstr("") + b"\x00" + struct.pack(">I", 0))
    amqp.expect(60, 21)
    print("ready", flush=True)
    amqp.sock.settimeout(None)
    while True:
        amqp.frame()  # deliveries, ignored


if __name__ == "__main__":
    main()
