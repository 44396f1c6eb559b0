import os, time, ctypes, signal
pid = os.fork()
if pid == 0:
    libc = ctypes.CDLL(None)
    libc.prctl(1, 9, 0, 0, 0)
    os.execvp('sleep', ['sleep', '100'])
print(pid, flush=True); time.sleep(30)
