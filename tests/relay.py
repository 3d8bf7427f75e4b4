"""A man in the middle of one minion's connection to the master (for tests).

The minion connects to the relay as if it were the master; the relay
forwards every request to the real master and every reply and push back,
records what the master pushed, and can inject frames of its own toward the
minion: the strongest position a network attacker can have.
"""

from __future__ import annotations

import threading

import zmq

from common import protocol


class Relay:
    """Forward one minion's request connection; record pushes; inject frames."""

    def __init__(self, master_port: int) -> None:
        ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        self.front: zmq.Socket[bytes] = ctx.socket(zmq.ROUTER)
        self.front.setsockopt(zmq.LINGER, 0)
        self.port = self.front.bind_to_random_port("tcp://127.0.0.1")
        self.back: zmq.Socket[bytes] = ctx.socket(zmq.DEALER)
        self.back.setsockopt(zmq.LINGER, 0)
        self.back.connect(f"tcp://127.0.0.1:{master_port}")
        self.route: bytes | None = None  # the minion's connection, once it spoke
        self.pushes: list[bytes] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        poller = zmq.Poller()
        poller.register(self.front, zmq.POLLIN)
        poller.register(self.back, zmq.POLLIN)
        while not self.stop.is_set():
            ready = dict(poller.poll(50))
            with self.lock:
                if self.front in ready:
                    route, *frames = self.front.recv_multipart()
                    self.route = route
                    self.back.send_multipart(frames)
                if self.back in ready:
                    frames = self.back.recv_multipart()
                    if frames[0] == protocol.PUSH_RID:
                        self.pushes.append(frames[-1])
                    if self.route is not None:
                        self.front.send_multipart([self.route, *frames])

    def inject(self, *frames: bytes) -> bool:
        """Send `frames` to the minion as if from the master; False before it connected."""
        with self.lock:
            if self.route is None:
                return False
            self.front.send_multipart([self.route, *frames])
            return True

    def push(self, payload: bytes) -> bool:
        """Inject a push (a job or notice) carrying `payload`."""
        return self.inject(protocol.PUSH_RID, payload)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.front.close()
        self.back.close()
