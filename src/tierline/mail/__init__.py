"""The email gateway: raw messages stored first, parsed, threaded onto tickets, loop-safe."""
