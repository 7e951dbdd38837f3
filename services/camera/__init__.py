"""Camera ingest: sources (sources.py) read by one thread each with reconnection and
offline reports (feed.py), the motion gate (motion.py), the frame store (store.py: where
frames lie, how one is found, retention; every reader of frames uses it), the bounded
hand-off to the vision queue (dispatch.py), per-camera counters in Redis (status.py),
the loop that ties them (ingest.py) and the demo camera (demo.py).
`python -m services.camera` runs it."""
