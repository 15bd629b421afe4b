# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one streaming download implementation of shai.

Used on target hosts by the ``vectorweight.shai.model_file`` module and on the controller by
``shai-models`` for URL files.  Standard library only (runs on Debian 12's python3.11).

What it does, in one pass over the bytes:

* streams ``url`` into ``<dest>.part`` in ``chunk_size`` pieces, updating sha256 (and, for
  Hugging Face non-LFS files, the git blob sha1) while the bytes go by - no second pass;
* resumes from an existing ``.part`` with ``Range: bytes=N-`` (the bytes already on disk are
  re-hashed locally, never re-transferred); a server that ignores Range (200) restarts cleanly;
* sends ``Authorization: Bearer <token>`` to the origin host only (dropped on a redirect to
  another host, e.g. a CDN with a signed URL, and on a redirect from https to http);
  :func:`token_for` decides whether a URL gets the token at all: only the Hub endpoint's host,
  and never over plain http unless the caller was told so explicitly (``token_over_http``);
* verifies the size and digest, then renames ``.part`` onto ``dest`` atomically (``finalize``
  lets an Ansible module use ``module.atomic_move``); on a digest mismatch the ``.part`` is
  removed and ``dest`` is untouched;
* turns HTTP errors into one clear sentence: 401/403 (token missing or refused, gated repo),
  404 (missing repo, revision or file), with the Hub's ``X-Error-Code``/``X-Error-Message``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import queue
import socket
import threading
import time

from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

CHUNK_SIZE = 4 * 1024 * 1024
PART_SUFFIX = ".part"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
USER_AGENT = "shai-download/1"


class DownloadError(ShaiError):
    """A download failed; ``str(exc)`` is a complete, human-readable sentence."""

    def __init__(self, message, url=None, status=None, error_code=None, resumable=False):
        super(DownloadError, self).__init__(message)
        self.url = url
        self.status = status
        self.error_code = error_code
        self.resumable = resumable


class _OriginAuthRedirectHandler(HTTPRedirectHandler):
    """Follow redirects; keep Authorization only while the host stays the same."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        auth = req.unredirected_hdrs.get("Authorization") or req.headers.get("Authorization")
        old, target = urlsplit(req.full_url), urlsplit(newurl)
        if auth and target.netloc == old.netloc and not (old.scheme == "https" and target.scheme != "https"):
            new.add_unredirected_header("Authorization", auth)
        return new


_OPENER = build_opener(_OriginAuthRedirectHandler())


def hf_endpoint(endpoint=None):
    """The Hub endpoint: the argument, else ``HF_ENDPOINT``, else huggingface.co (no trailing /)."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_HF_ENDPOINT).rstrip("/")


def hf_resolve_url(repo_id, path, revision="main", endpoint=None, repo_type="model"):
    """URL of one file of a Hub repo: ``{endpoint}/{prefix}{repo}/resolve/{revision}/{path}``."""
    prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}.get(repo_type)
    if prefix is None:
        raise ValueError("repo_type must be model, dataset or space, not %r" % (repo_type,))
    return "%s/%s%s/resolve/%s/%s" % (
        hf_endpoint(endpoint),
        prefix,
        repo_id,
        quote(revision, safe=""),
        quote(path),
    )


def token_for(url, token, endpoint=None, token_over_http=False):
    """``(token or None, reason)``: whether ``url`` may carry the Hugging Face ``token``.

    The token belongs to the Hub endpoint (``endpoint``, ``HF_ENDPOINT``, huggingface.co): a URL
    on any other host never gets it, and a plain-http URL gets it only with
    ``token_over_http=True`` (an operator's explicit, per-entry choice for a lab mirror).
    ``reason`` says why the token was withheld (empty when it is sent or there is none).
    """
    if not token:
        return None, ""
    parts = urlsplit(url)
    home = urlsplit(hf_endpoint(endpoint))
    if (parts.hostname or "").lower() != (home.hostname or "").lower() or (parts.port != home.port):
        return None, "the token was not sent: %s is not the Hugging Face endpoint %s" % (
            parts.netloc, home.netloc)
    if parts.scheme != "https" and not token_over_http:
        return None, "the token was not sent over plain http (set token_over_http on the entry to allow it)"
    return token, ""


def _headers(token=None, extra=None):
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if extra:
        headers.update(extra)
    return headers


def _request(url, method="GET", token=None, headers=None, timeout=60.0):
    req = Request(url, method=method, headers=_headers(token, headers))
    if token:
        req.add_unredirected_header("Authorization", "Bearer %s" % token)
    return _OPENER.open(req, timeout=timeout)


def _http_error(exc, url, token):
    """Map an HTTPError to a DownloadError with one clear sentence."""
    status = exc.code
    code = exc.headers.get("X-Error-Code") if exc.headers is not None else None
    server_msg = exc.headers.get("X-Error-Message") if exc.headers is not None else None
    detail = (" (server said: %s)" % server_msg) if server_msg else ""
    if code == "GatedRepo":
        if token:
            msg = (
                "gated repository: the token was refused for %s; request access on the repo page with "
                "the account that owns the token" % url
            )
        else:
            msg = (
                "gated repository: %s needs a Hugging Face token with access "
                "(set HF_TOKEN, or vault_hf_token in the vault)" % url
            )
    elif code == "RepoNotFound":
        msg = "repository not found: %s (check the repo id%s)" % (
            url,
            "" if token else ", or set a token if it is private",
        )
    elif code == "RevisionNotFound":
        msg = "revision not found: %s" % url
    elif code == "EntryNotFound":
        msg = "file not found in the repository: %s" % url
    elif status == 401:
        msg = "HTTP 401 Unauthorized for %s: %s" % (
            url,
            "the token was rejected" if token else "a token is required (set HF_TOKEN or the token option)",
        )
    elif status == 403:
        msg = "HTTP 403 Forbidden for %s: the %s" % (
            url,
            "token has no access" if token else "server refused the request without a token",
        )
    elif status == 404:
        msg = "HTTP 404 Not Found: %s" % url
    else:
        msg = "HTTP %d %s for %s" % (status, exc.reason, url)
    return DownloadError(msg + detail, url=url, status=status, error_code=code)


def head(url, token=None, headers=None, timeout=30.0):
    """HEAD ``url`` (following redirects) and return the final response headers as a dict.

    For a Hub ``resolve`` URL the interesting ones are ``X-Linked-Etag`` (sha256 of an LFS file),
    ``X-Linked-Size``, ``ETag`` (git blob sha1 of a regular file) and ``X-Repo-Commit``.  They
    are read from the first response of the redirect chain that carries them.
    """
    req = Request(url, method="HEAD", headers=_headers(token, headers))
    if token:
        req.add_unredirected_header("Authorization", "Bearer %s" % token)

    collected = {}

    class _Collect(_OriginAuthRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            for key in headers.keys():
                collected.setdefault(key.lower(), headers[key])
            return _OriginAuthRedirectHandler.redirect_request(self, req, fp, code, msg, headers, newurl)

    try:
        with build_opener(_Collect()).open(req, timeout=timeout) as resp:
            final = dict((k.lower(), v) for k, v in resp.headers.items())
    except HTTPError as exc:
        raise _http_error(exc, url, token)
    except (URLError, socket.timeout, OSError) as exc:
        raise DownloadError("cannot reach %s: %s" % (url, getattr(exc, "reason", exc)), url=url)
    # values from the redirect response (Hub metadata) win over the CDN's own headers
    final.update(collected)
    return final


def hf_file_metadata(repo_id, path, revision="main", endpoint=None, token=None, repo_type="model"):
    """What the Hub says about one file: url, size, sha256 (LFS) or git sha1 (regular), commit."""
    url = hf_resolve_url(repo_id, path, revision, endpoint, repo_type)
    hdrs = head(url, token=token)
    linked = hdrs.get("x-linked-etag")
    etag = (linked or hdrs.get("etag") or "").strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    etag = etag.strip('"')
    size = hdrs.get("x-linked-size") or hdrs.get("content-length")
    meta = {
        "url": url,
        "size": int(size) if size else None,
        "commit": hdrs.get("x-repo-commit"),
        "sha256": None,
        "git_sha1": None,
    }
    if linked and len(etag) == 64:
        meta["sha256"] = etag.lower()
    elif len(etag) == 40:
        meta["git_sha1"] = etag.lower()
    return meta


def sha256_file(path, chunk_size=CHUNK_SIZE, progress=None):
    """Hex sha256 of a file (``progress(done, total)`` called per chunk when given)."""
    digest = hashlib.sha256()
    total = os.path.getsize(path)
    done = 0
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            digest.update(view[:n])
            done += n
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def git_blob_sha1_file(path):
    """git's blob id of a file (what the Hub's ETag carries for non-LFS files)."""
    size = os.path.getsize(path)
    digest = hashlib.sha1()
    digest.update(("blob %d\0" % size).encode("ascii"))
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def file_matches(path, sha256=None, size=None, git_sha1=None):
    """True when ``path`` exists and matches every expectation given (at least one must be)."""
    if not os.path.isfile(path):
        return False
    if size is not None and os.path.getsize(path) != size:
        return False
    if sha256:
        return sha256_file(path) == sha256.lower()
    if git_sha1:
        return git_blob_sha1_file(path) == git_sha1.lower()
    return size is not None


def _parse_content_range(value):
    """``bytes START-END/TOTAL`` → (start, total or None); ``bytes */TOTAL`` → (None, total)."""
    try:
        unit, dummy, rest = value.strip().partition(" ")
        if unit != "bytes":
            return None, None
        span, dummy, total = rest.partition("/")
        total_n = None if total in ("", "*") else int(total)
        if span == "*":
            return None, total_n
        return int(span.split("-", 1)[0]), total_n
    except ValueError:
        return None, None


def _hashers(git_sha1, total):
    sha = hashlib.sha256()
    sha1 = None
    if git_sha1 and total is not None:
        sha1 = hashlib.sha1()
        sha1.update(("blob %d\0" % total).encode("ascii"))
    return sha, sha1


class _Hasher(object):
    """Hash received blocks on a second thread while the next block is received and written.

    Double buffering without copies: a block is handed to the hashing thread after it has been
    written and comes back to the receive loop once hashed (``hashlib`` and the socket/file
    calls release the GIL, so receive, write and hash overlap on two cores).  Measured against
    hashing inside the loop: benchmarks/model_file.py, ADR 0401.
    """

    def __init__(self, sha, sha1, chunk_size, buffers=3):
        self._sha = sha
        self._sha1 = sha1
        self._free = queue.Queue()
        self._work = queue.Queue()
        for _dummy in range(buffers):
            self._free.put(bytearray(chunk_size))
        self._thread = threading.Thread(target=self._run, name="shai-download-hash")
        self._thread.daemon = True
        self._thread.start()

    def _run(self):
        while True:
            item = self._work.get()
            if item is None:
                return
            buf, n = item
            block = memoryview(buf)[:n]
            self._sha.update(block)
            if self._sha1 is not None:
                self._sha1.update(block)
            self._free.put(buf)

    def free_buffer(self):
        return self._free.get()

    def give_back(self, buf):
        self._free.put(buf)

    def hash(self, buf, n):
        self._work.put((buf, n))

    def close(self):
        """Wait until every handed-over block is hashed (digests are complete afterwards)."""
        self._work.put(None)
        self._thread.join()


def _rehash_part(part, offset, sha, sha1):
    with open(part, "rb", buffering=0) as fh:
        left = offset
        while left > 0:
            block = fh.read(min(CHUNK_SIZE, left))
            if not block:
                break
            sha.update(block)
            if sha1 is not None:
                sha1.update(block)
            left -= len(block)


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _default_finalize(src, dest):
    os.replace(src, dest)


def download(url, dest, **kwargs):
    """Download ``url`` to ``dest`` (see the module docstring).  Returns a dict:

    ``url, dest, sha256, size, bytes_transferred, resumed_from, elapsed, attempts``.

    Keyword arguments: ``sha256``, ``size``, ``git_sha1`` (expectations), ``token``, ``headers``,
    ``timeout``, ``chunk_size``, ``progress(done, total)`` (called after every chunk; ``total``
    may be None), ``finalize(src, dest)`` (default ``os.replace``), ``mode``, ``resume``,
    ``retries``, ``retry_wait``.  A connection cut mid-stream is retried ``retries`` times from
    where it stopped; after that a resumable :class:`DownloadError` is raised and the ``.part``
    stays for the next run.  When a *resumed* download does not match its digest (the ``.part``
    came from another version of the file), it is discarded and downloaded once more from zero.
    """
    try:
        return _download(url, dest, **kwargs)
    except DownloadError as exc:
        if not (getattr(exc, "mismatch", False) and getattr(exc, "resumed", False)):
            raise
    kwargs["resume"] = False
    return _download(url, dest, **kwargs)


def _download(
    url,
    dest,
    sha256=None,
    size=None,
    git_sha1=None,
    token=None,
    headers=None,
    timeout=60.0,
    chunk_size=CHUNK_SIZE,
    progress=None,
    finalize=None,
    mode=None,
    resume=True,
    retries=2,
    retry_wait=1.0,
):
    dest = os.fspath(dest)
    part = dest + PART_SUFFIX
    want = sha256.lower() if sha256 else None
    start_time = time.monotonic()
    transferred = 0
    resumed_from = None
    attempts = 0
    dest_dir = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(dest_dir):
        raise DownloadError("destination folder %s does not exist" % dest_dir, url=url)
    if not resume or os.path.islink(part):  # never write through a link placed at the .part name
        _remove(part)

    while True:
        attempts += 1
        offset = os.path.getsize(part) if os.path.isfile(part) else 0
        if size is not None and offset > size:
            _remove(part)
            offset = 0
        extra = dict(headers or {})
        if offset:
            extra["Range"] = "bytes=%d-" % offset
        try:
            resp = _request(url, token=token, headers=extra, timeout=timeout)
        except HTTPError as exc:
            if exc.code == 416 and offset:
                total = _parse_content_range(exc.headers.get("Content-Range", ""))[1]
                exc.close()
                if total is not None and total == offset:
                    # the .part is already complete; verify it below without a transfer
                    resp = None
                else:
                    _remove(part)
                    continue
            else:
                err = _http_error(exc, url, token)
                exc.close()
                raise err
        except (URLError, socket.timeout, ConnectionError) as exc:
            if attempts <= retries:
                time.sleep(retry_wait)
                continue
            raise DownloadError(
                "cannot reach %s: %s" % (url, getattr(exc, "reason", exc)), url=url, resumable=True
            )

        total = size
        if resp is not None:
            status = resp.status
            if status == 206:
                start, full = _parse_content_range(resp.headers.get("Content-Range", ""))
                if start != offset:
                    resp.close()
                    _remove(part)
                    raise DownloadError(
                        "server answered Range bytes=%d- with %s; the partial file was discarded, rerun"
                        % (offset, resp.headers.get("Content-Range")),
                        url=url,
                        resumable=True,
                    )
                if full is not None:
                    total = full
                resumed_from = offset
            else:
                if offset:
                    offset = 0  # server ignored Range: start over
                length = resp.headers.get("Content-Length")
                if length is not None and total is None:
                    total = int(length)
        else:
            total = offset
        if size is not None and total is not None and total != size:
            if resp is not None:
                resp.close()
            raise DownloadError(
                "size mismatch for %s: the server has %d bytes, expected %d" % (url, total, size), url=url
            )

        sha, sha1 = _hashers(git_sha1, total)
        if offset:
            _rehash_part(part, offset, sha, sha1)
        done = offset
        interrupted = None
        if resp is not None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if offset else os.O_TRUNC)
            fd = os.open(part, flags, 0o600)
            hasher = _Hasher(sha, sha1, chunk_size)
            try:
                if progress is not None:
                    progress(done, total)
                while True:
                    buf = hasher.free_buffer()
                    try:
                        n = resp.readinto(buf)
                    except (socket.timeout, ConnectionError, OSError) as exc:
                        hasher.give_back(buf)
                        interrupted = exc
                        break
                    if not n:
                        hasher.give_back(buf)
                        break
                    chunk = memoryview(buf)[:n]
                    written = 0
                    while written < n:
                        written += os.write(fd, chunk[written:])
                    hasher.hash(buf, n)
                    done += n
                    transferred += n
                    if progress is not None:
                        progress(done, total)
            finally:
                hasher.close()
                os.close(fd)
                resp.close()
        if interrupted is None and total is not None and done < total:
            interrupted = "connection closed after %d of %d bytes" % (done, total)
        if interrupted is not None:
            if attempts <= retries:
                time.sleep(retry_wait)
                continue
            raise DownloadError(
                "download of %s interrupted at %d bytes (%s); the partial file %s is kept and the "
                "next run resumes from it" % (url, done, interrupted, part),
                url=url,
                resumable=True,
            )
        break

    got = sha.hexdigest()
    err = None
    if want and got != want:
        err = DownloadError(
            "sha256 mismatch for %s: expected %s, got %s; nothing was written to %s" % (url, want, got, dest),
            url=url,
        )
    elif sha1 is not None and sha1.hexdigest() != git_sha1.lower():
        err = DownloadError(
            "git blob sha1 mismatch for %s: expected %s, got %s; nothing was written to %s"
            % (url, git_sha1, sha1.hexdigest(), dest),
            url=url,
        )
    if err is not None:
        _remove(part)
        err.mismatch = True
        err.resumed = resumed_from is not None
        raise err
    if mode is not None:
        os.chmod(part, mode)
    (finalize or _default_finalize)(part, dest)
    return {
        "url": url,
        "dest": dest,
        "sha256": got,
        "size": done,
        "bytes_transferred": transferred,
        "resumed_from": resumed_from,
        "elapsed": time.monotonic() - start_time,
        "attempts": attempts,
    }
