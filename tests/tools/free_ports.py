#!/usr/bin/env python3
"""free_ports.py N — print a TCP port P on 127.0.0.1 such that P .. P+N-1 are
all free now (for a broker and the pseudonymisation instances that net init
puts on the ports after it). Exit 1 when none is found."""
import socket
import sys


def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    for _ in range(200):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        base = s.getsockname()[1]
        s.close()
        if base + n - 1 < 65536 and all(free(base + i) for i in range(n)):
            print(base)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
