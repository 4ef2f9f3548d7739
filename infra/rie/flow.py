#!/usr/bin/env python3
"""The packaged functions (.build/lambda/<fn>, from infra/package.sh) under AWS's own Runtime
Interface Emulator, the way Lambda runs them, driven through one whole flow with API Gateway v2
events: health, upload (S3 on moto, Postgres), the reembed drain, search, generate (extractive),
route.

Each function runs in a mount namespace of its own with its package bind-mounted read-only at
/var/task (the RIE puts /var/task/lib on LD_LIBRARY_PATH, as Lambda does), as the user `nobody`,
with only /tmp writable. `upload` asks for the worker through the Lambda Invoke API; a small
local server here speaks that API (202 for InvocationType=Event) and hands the event to the
reembed RIE, as Lambda would.

Prints, per function: spawn-to-first-response (its cold start, against Lambda's 10 s init limit),
peak resident memory after the flow against the template's MemorySize, and the package size.
Exits 1 on any failed step.

Usage: infra/rie/flow.py RIE_BINARY   (env: RIE_DATABASE_URL, RIE_S3_ENDPOINT, PACKAGES=.build/lambda)
"""
import base64, http.server, json, os, re, subprocess, sys, threading, time, urllib.request, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = os.path.join(ROOT, os.environ.get("PACKAGES", ".build/lambda"))
RIE = os.path.abspath(sys.argv[1])
DATABASE_URL = os.environ["RIE_DATABASE_URL"]
S3 = os.environ["RIE_S3_ENDPOINT"]
FUNCTIONS = ["health", "upload", "reembed", "search", "generate", "route"]
PORT = {fn: 9400 + i for i, fn in enumerate(FUNCTIONS)}
INVOKE_PORT = 9399
failures = []
# The per-minute schedule's drain, as EventBridge sends it.
DRAIN = {"version": "0", "id": "rie-drain", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
         "time": "2026-12-07T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {"task": "drain"}}


def memory_sizes():
    """MemorySize per function from the template (Globals, then each function's own)."""
    text = open(os.path.join(ROOT, "infra/template.yaml")).read()
    default = int(re.search(r"Globals:.*?MemorySize: (\d+)", text, re.S).group(1))
    sizes = {}
    for fn in FUNCTIONS:
        block = re.search(r"\n  %sFunction:\n(.*?)(\n  \w+:\n|\Z)" % fn.capitalize(), text, re.S).group(1)
        m = re.search(r"\n      MemorySize: (\d+)", block)
        sizes[fn] = int(m.group(1)) if m else default
    return sizes


ORG = "rie-" + uuid.uuid4().hex[:10]  # a fresh tenant per run: the same text again would be a duplicate


def http_event(method, path, body=None, content_type="application/json", org=None, query=None):
    org = org or ORG
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    return {
        "version": "2.0", "routeKey": f"{method} {re.sub(r'/[0-9a-f-]{36}', '/{id}', path)}", "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()), "headers": {"content-type": content_type},
        "queryStringParameters": query, "pathParameters": ({"id": m.group(1)} if (m := re.search(r"/([0-9a-f-]{36})", path)) else None),
        "requestContext": {"accountId": "123456789012", "apiId": "rie", "domainName": "rie", "domainPrefix": "rie",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "rie-flow"},
                           "requestId": str(uuid.uuid4()), "routeKey": f"{method} {path}", "stage": "$default",
                           "time": "07/Dec/2026:00:00:00 +0000", "timeEpoch": int(time.time() * 1000),
                           "authorizer": {"jwt": {"claims": {"org_id": org, "sub": "rie"}, "scopes": None}}},
        "body": base64.b64encode(raw).decode() if raw is not None else None, "isBase64Encoded": raw is not None,
    }


# One RIE is one execution environment: it takes one invocation at a time (Lambda would start a
# second instance; here they queue).
LOCKS = {fn: threading.Lock() for fn in FUNCTIONS}


def invoke(fn, event, timeout=120):
    with LOCKS[fn]:
        return invoke_unlocked(fn, event, timeout)


def invoke_unlocked(fn, event, timeout):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT[fn]}/2015-03-31/functions/function/invocations",
                                 data=json.dumps(event).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def api(fn, method, path, body=None, **kw):
    out = invoke(fn, http_event(method, path, body, **kw))
    payload = out.get("body") or ""
    if out.get("isBase64Encoded"):
        payload = base64.b64decode(payload).decode()
    return out.get("statusCode"), (json.loads(payload) if payload.startswith(("{", "[")) else payload)


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


class InvokeAPI(http.server.BaseHTTPRequestHandler):
    """Lambda's Invoke API (POST /2015-03-31/functions/{name}/invocations): an Event invocation is
    answered 202 and handed to that function's RIE on a thread, as Lambda queues it."""
    invoked = []

    def do_POST(self):
        name = self.path.split("/functions/")[1].split("/")[0]
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        fn = next((f for f in FUNCTIONS if name.endswith(f)), None)
        InvokeAPI.invoked.append((name, self.headers.get("x-amz-invocation-type"), bool(self.headers.get("authorization"))))
        if fn is None:
            self.send_response(404); self.end_headers(); return
        threading.Thread(target=lambda: invoke(fn, json.loads(body or b"{}")), daemon=True).start()
        self.send_response(202); self.send_header("content-length", "0"); self.end_headers()

    def log_message(self, *args):
        pass


def namespaces_work():
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


NAMESPACES = namespaces_work()


def package_dir(fn):
    """infra/package.sh's folders are named by function, `sam build`'s by logical id."""
    task = os.path.join(PACKAGES, fn)
    return task if os.path.isdir(task) else os.path.join(PACKAGES, fn.capitalize() + "Function")


CGROUPS = []


def memory_cgroup(fn, mb):
    """Lambda caps a function at its MemorySize. Here too where the machine allows it: a memory
    cgroup per function (v2's memory.max, else v1's memory.limit_in_bytes) that the function's
    process joins before it execs the RIE, so a function over its MemorySize is killed here as
    on Lambda. None where cgroups are not writable: peaks are then measured, not capped."""
    for base, limit in (("/sys/fs/cgroup", "memory.max"), ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")):
        if not os.path.isdir(base):
            continue
        path = os.path.join(base, f"rie-{fn}-{os.getpid()}")
        try:
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, limit), "w") as f:
                f.write(str(mb * 1024 * 1024))
            CGROUPS.append(path)
            return path
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass
    return None


def start(fn, env, memory_mb):
    task = package_dir(fn)
    if not NAMESPACES:
        # No mount namespaces here (not root, or a sandbox without CAP_SYS_ADMIN): the package
        # folder is the working directory and its lib/ is put on LD_LIBRARY_PATH by hand; it is
        # not read-only, which the caller is told.
        log = open(f"/tmp/rie-{fn}.log", "w")
        env = dict(env, AWS_LAMBDA_FUNCTION_NAME=f"rag-{fn}", LD_LIBRARY_PATH=os.path.join(task, "lib"), LAMBDA_TASK_ROOT=task)
        return subprocess.Popen([RIE, "--runtime-interface-emulator-address", f"127.0.0.1:{PORT[fn]}",
                                 "--runtime-api-address", f"127.0.0.1:{PORT[fn] + 100}", os.path.join(task, "bootstrap")],
                                cwd=task, env=env, stdout=log, stderr=subprocess.STDOUT)
    cgroup = memory_cgroup(fn, memory_mb)
    join = 'echo $$ > "$CGROUP/cgroup.procs" && ' if cgroup else ""
    script = (join + "mount --bind \"$TASK\" /var/task && mount -o remount,ro,bind /var/task && cd /var/task && "
              "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$RIE\" "
              "--runtime-interface-emulator-address 127.0.0.1:$PORT --runtime-api-address 127.0.0.1:$((PORT + 100)) /var/task/bootstrap")
    log = open(f"/tmp/rie-{fn}.log", "w")
    env = dict(env, TASK=task, RIE=RIE, PORT=str(PORT[fn]), AWS_LAMBDA_FUNCTION_NAME=f"rag-{fn}", CGROUP=cgroup or "")
    return subprocess.Popen(["unshare", "-m", "sh", "-c", script], env=env, stdout=log, stderr=subprocess.STDOUT)


def bootstrap_pid(rie_pid):
    """The bootstrap process the RIE spawned (a descendant of `unshare`)."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    rows = [l.split(None, 2) for l in out.splitlines()[1:]]
    kids = {rie_pid}
    for _ in range(4):
        kids |= {int(p) for p, pp, _ in rows if int(pp) in kids}
    return next((int(p) for p, _, a in rows if int(p) in kids and a.split()[0].endswith("/bootstrap")), None)


def peak_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None


def evict_page_cache(folder):
    """Lambda's first start reads the package from its disk, not from this machine's page cache:
    drop the package's pages (posix_fadvise DONTNEED drops clean pages; no root needed) so the
    cold start measured here pays for reading the binary, libraries and model."""
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def main():
    if NAMESPACES:
        os.makedirs("/var/task", exist_ok=True)
    else:
        print("note: no mount namespaces here; packages run from their folders, not read-only at /var/task", flush=True)
    sizes = memory_sizes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", INVOKE_PORT), InvokeAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bucket = "rie-" + uuid.uuid4().hex[:12]
    urllib.request.urlopen(urllib.request.Request(f"{S3}/{bucket}", method="PUT")).read()
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "DATABASE_URL": DATABASE_URL, "BLOB_URL": f"s3://{bucket}/blobs",
           "AWS_ENDPOINT_URL_S3": S3, "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{INVOKE_PORT}",
           "AWS_ACCESS_KEY_ID": "rie", "AWS_SECRET_ACCESS_KEY": "rie", "AWS_SESSION_TOKEN": "rie", "AWS_REGION": "us-east-1",
           "REEMBED_FUNCTION": "rag-reembed", "LOG_LEVEL": "info",
           # Set by Lambda, not by the RIE.
           "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime", "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023"}
    procs, cold = {}, {}
    try:
        for fn in FUNCTIONS:
            env_fn = dict(env, AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(sizes[fn]))
            evict_page_cache(package_dir(fn))
            t0 = time.monotonic()
            procs[fn] = start(fn, env_fn, sizes[fn])
            # The first invocation waits for the RIE to listen, then for the function's init.
            event = http_event("GET", "/healthz") if fn == "health" else DRAIN if fn == "reembed" else http_event("GET", "/v1/unknown-warmup")
            for _ in range(300):
                try:
                    invoke(fn, event, timeout=60)
                    break
                except (ConnectionError, urllib.error.URLError):
                    time.sleep(0.05)
            cold[fn] = time.monotonic() - t0

        status, ready = api("health", "GET", "/readyz")
        check(status == 200 and ready.get("status") == "ready", f"health /readyz on Postgres + S3: {status} {json.dumps(ready)[:300]}")

        boundary = "rie" + uuid.uuid4().hex
        text = "Leave policy\n\nEmployees get twelve days of paid annual leave per year. Requests go to your manager.\n"
        form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"leave.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                f"{text}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nLeave policy\r\n--{boundary}--\r\n").encode()
        status, up = api("upload", "POST", "/v1/documents", form, content_type=f"multipart/form-data; boundary={boundary}")
        check(status == 202 and up.get("status") == "pending", f"upload: {status} {json.dumps(up)[:200]}")
        doc = up.get("document_id", "")
        check(any(n == "rag-reembed" and t == "Event" and signed for n, t, signed in InvokeAPI.invoked),
              f"upload invoked rag-reembed asynchronously, signed (Invoke API saw {InvokeAPI.invoked})")

        deadline = time.time() + 120
        state = ""
        while time.time() < deadline:
            invoke("reembed", DRAIN, timeout=120)
            _, d = api("upload", "GET", f"/v1/documents/{doc}")
            state = d.get("status", "") if isinstance(d, dict) else ""
            if state in ("ready", "failed"):
                break
            time.sleep(0.5)
        check(state == "ready", f"reembed indexed the upload from S3 into Postgres: {state}")

        status, found = api("search", "POST", "/v1/search", {"query": "how many days of annual leave"})
        hits = found.get("results", []) if isinstance(found, dict) else []
        check(status == 200 and hits and hits[0].get("document_id") == doc, f"search: {status} {len(hits)} results")
        status, answer = api("generate", "POST", "/v1/generate", {"query": "How many days of annual leave do employees get?"})
        check(status == 200 and "twelve" in json.dumps(answer).lower(), f"generate (extractive): {status} {json.dumps(answer)[:200]}")
        status, routed = api("route", "POST", "/v1/route", {"text": "xin nghỉ phép ngày mai"})
        check(status == 200 and routed.get("top_actions"), f"route: {status} {json.dumps(routed)[:160]}")
        def objects():
            listing = urllib.request.urlopen(f"{S3}/{bucket}?list-type=2").read().decode()
            return re.findall(r"<Key>(blobs/[^<]+)</Key>", listing)
        check(len(objects()) == 1, f"the upload is one object in S3: {objects()}")
        status, _ = api("upload", "DELETE", f"/v1/documents/{doc}")
        check(status == 202, f"delete: {status}")
        for _ in range(60):
            invoke("reembed", DRAIN, timeout=120)
            if not objects():
                break
            time.sleep(0.5)
        check(objects() == [], f"the delete job removed the object from S3: {objects()}")

        print("\nfunction  cold start (spawn to first answer, package not in the page cache)  peak RSS / MemorySize   package (unzipped)")
        for fn in FUNCTIONS:
            pid = bootstrap_pid(procs[fn].pid)
            peak = peak_mb(pid) if pid else None
            size = int(subprocess.run(["du", "-sb", package_dir(fn)], capture_output=True, text=True).stdout.split()[0])
            over = peak is not None and peak > sizes[fn]
            print(f"{fn:9} {cold[fn]:6.2f} s{'':60}{peak if peak is not None else '?':>5} / {sizes[fn]:<5} MB{' OVER' if over else '':6} {size:,} bytes")
        print("memory: each function capped at its MemorySize by a memory cgroup" if len(CGROUPS) == len(FUNCTIONS)
              else "memory: no writable memory cgroup here; peaks measured, not capped")
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        server.shutdown()
        time.sleep(0.5)
        for path in CGROUPS:
            try:
                os.rmdir(path)
            except OSError:
                pass
    if failures:
        print(f"\n{len(failures)} step(s) failed; logs in /tmp/rie-<fn>.log", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
