// The small long-lived process that starts the agent's pipe steps (see spawner.ts), as
// Python source run with `python3 -I -S -c`. Why Python: it has posix_spawn (glibc's
// vfork-style clone: no copy of the caller's page tables, so starting a program costs
// about what the program's own exec costs) and wait4 (each step's exact wait status and
// the CPU of its whole reaped tree, which a bash wrapper's `times` gave before), and it
// is on every node that runs PRESTO's scripts. Forking the agent's own Node process
// costs several ms per step, as does a bash wrapper.
//
// Protocol, one JSON object per line.
//   agent -> spawner (stdin):  {"env": {...}} first: what every step's env starts from
//                              {"id": N, "token": T, "argv": [...], "cwd": D, "env": {...}}
//   spawner -> agent (stdout): {"ev": "ready", "pid": P}
//                              {"ev": "started", "id": N, "pid": P, "startTicks": T | null}
//                              {"ev": "failed", "id": N, "rc": 126|127, "message": M, "detail": S}
//                              {"ev": "exit", "id": N, "code": C | "signal": S, "cpu": SECONDS, "lifeS": SECONDS,
//                               "groupGone": true (only when no process is left in the step's group)}
// Each step's stdout and stderr are one Unix stream socket, connected to the agent's
// listening socket (argv[1]) and introduced by the step's token; its stdin is /dev/null.
// Once the step's program has been reaped, the spawner shuts the socket down for
// writing: the agent then reads everything the program wrote and an end of file right
// after, whatever the step left running still holds (those writes fail; the runner
// kills such leftovers anyway). Shutting down never blocks, even when the agent has
// stopped reading because its log spool is full.
//
// Each step is a session (and process-group) leader: pid == pgid. The env a step gets
// is the base one sent first (not the spawner's own: a python3 found through a shim such
// as pyenv's runs with a changed PATH) plus the step's additions.
// When the agent goes away (stdin closes), its steps get SIGHUP (as a pty's hangup
// would send them) and the spawner exits; what ignores SIGHUP stays for the restarted
// agent to kill from its pgid records.
export const SPAWNER_SCRIPT = String.raw`
import errno, json, os, select, signal, socket, stat, sys, time

sock_path = sys.argv[1]
base_env = None  # the first line on stdin: {"env": {...}}
children = {}  # pid -> (id, socket, spawn time)
sigdef = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}
out = []

def send(obj):
    out.append(json.dumps(obj, separators=(",", ":")) + "\n")

def flush():
    if not out:
        return
    data = "".join(out).encode()
    del out[:]
    while data:
        try:
            n = os.write(1, data)
        except BrokenPipeError:
            hangup()  # the agent is gone
        data = data[n:]

def executable(p):
    try:
        st = os.stat(p)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and os.access(p, os.X_OK)

# Where a program was found in PATH, as a shell's hash table keeps it: a PATH search is a
# stat of every entry before the program's own (tens of system calls for each step of a
# search). Kept FOUND_FOR_S at most, so that a program installed earlier in PATH is seen
# soon; a program no longer executable where it was found is searched for again at once.
found = {}  # (prog, PATH) -> (full path, when found)
FOUND_FOR_S = 10.0

def resolve(prog, cwd, path):
    # The same checks and messages as the pty wrapper's (wrapper.ts).
    if "/" in prog:
        full = os.path.join(cwd, prog)
        if not os.path.exists(full):
            return None, (127, prog + ": no such file", "")
        if os.path.isdir(full):
            return None, (126, prog + ": is a directory", "")
        if not os.access(full, os.X_OK):
            return None, (126, prog + ": not executable", "")
        return full, None
    key = (prog, path)
    hit = found.get(key)
    if hit and time.monotonic() - hit[1] < FOUND_FOR_S and executable(hit[0]):
        return hit[0], None
    dirs = path.split(":")
    for d in dirs:
        full = os.path.join(d or cwd, prog)
        if executable(full):
            # Only an absolute PATH's answer holds for every step (an empty entry means the cwd).
            if all(x.startswith("/") for x in dirs):
                found[key] = (full, time.monotonic())
            return full, None
    return None, (127, prog + ": command not found in PATH", " (PATH=" + path + ")")

def spawn(req):
    rid = req["id"]
    argv = req["argv"]
    cwd = req["cwd"]
    env = dict(base_env)
    env.update(req.get("env") or {})
    prog, err = resolve(argv[0], cwd, env.get("PATH", ""))
    if err:
        send({"ev": "failed", "id": rid, "rc": err[0], "message": err[1], "detail": err[2]})
        return
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sock_path)
        s.sendall(req["token"].encode())
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, s.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, s.fileno(), 2),
        ]
        t0 = time.monotonic()
        os.chdir(cwd)
        try:
            try:
                pid = os.posix_spawn(prog, argv, env, file_actions=actions, setsid=True, setsigdef=sigdef, setsigmask=())
            except OSError as e:
                if e.errno != errno.ENOEXEC:
                    raise
                # A script without a #! line: run it with sh, as execvp does.
                pid = os.posix_spawn("/bin/sh", ["sh", prog] + argv[1:], env, file_actions=actions, setsid=True, setsigdef=sigdef, setsigmask=())
        finally:
            os.chdir("/")
    except OSError as e:
        s.close()
        send({"ev": "failed", "id": rid, "rc": 126, "message": argv[0] + ": " + (e.strerror or str(e)), "detail": ""})
        return
    children[pid] = (rid, s, t0)
    # Its start time, for the agent's pgid record (a pid reused later has another); read
    # here, off the agent's event loop. The child is not reaped yet, so /proc still has it.
    # Unbuffered: a buffered open() adds an ioctl, two lseeks and a fstat to every step.
    try:
        fd = os.open("/proc/%d/stat" % pid, os.O_RDONLY)
        try:
            st = os.read(fd, 4096)
        finally:
            os.close(fd)
        ticks = int(st[st.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        ticks = None
    send({"ev": "started", "id": rid, "pid": pid, "startTicks": ticks})

def reap():
    while children:
        try:
            pid, status, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        entry = children.pop(pid, None)
        if entry is None:
            continue
        rid, s, t0 = entry
        life = time.monotonic() - t0
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        s.close()
        msg = {"ev": "exit", "id": rid, "cpu": ru.ru_utime + ru.ru_stime, "lifeS": life}
        # Nothing left in its group (the usual case) is said here, where finding out costs
        # no more than a system call; a group that is empty stays empty.
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            msg["groupGone"] = True
        except OSError:
            pass
        if os.WIFSIGNALED(status):
            msg["signal"] = os.WTERMSIG(status)
        else:
            msg["code"] = os.WEXITSTATUS(status)
        send(msg)

def hangup():
    for pid in list(children):
        for sig in (signal.SIGHUP, signal.SIGCONT):
            try:
                os.killpg(pid, sig)
            except OSError:
                pass
    sys.exit(0)

wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *a: None)
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)

poller = select.poll()
poller.register(0, select.POLLIN)
poller.register(wake_r, select.POLLIN)
pending = b""
send({"ev": "ready", "pid": os.getpid()})
flush()
while True:
    try:
        events = poller.poll()
    except InterruptedError:
        events = []
    for fd, _ in events:
        if fd == wake_r:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        else:
            data = os.read(0, 1 << 16)
            if not data:
                reap()
                flush()
                hangup()
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not line:
                    continue
                req = json.loads(line)
                if base_env is None:
                    base_env = req["env"]
                    continue
                try:
                    spawn(req)
                except Exception as e:
                    # never let one odd request take every running step's reaper down
                    send({"ev": "failed", "id": req.get("id"), "rc": 126, "message": "the spawner could not start it: " + repr(e), "detail": ""})
    reap()
    flush()
`;
