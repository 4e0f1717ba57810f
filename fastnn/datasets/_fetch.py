"""Where data sets are looked for, and downloading a file into the cache.

A download is written to a temporary file beside its target, checked against
its md5, and only then renamed into place, so the cache never holds a partial
or unverified file.
"""

import hashlib
import http.client
import logging
import os
import urllib.request
import uuid
from pathlib import Path

logger = logging.getLogger(__name__)

# Seconds a download waits for the server on each connect or read.
TIMEOUT = 30

_CHUNK = 1 << 20


def cache_dir():
    """The user cache: ``$XDG_CACHE_HOME/fastnn``, else ``~/.cache/fastnn``.

    Read from the environment at each call.
    """
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "fastnn"


def data_roots(data_home=None):
    """Directories to look in, in order: ``data_home``, ``$FASTNN_DATA``, the cache.

    Unset or empty entries are skipped and duplicates dropped; the cache,
    where downloads go, is always last.
    """
    cache = cache_dir()
    roots = []
    for root in (data_home, os.environ.get("FASTNN_DATA")):
        if root:
            root = Path(root).expanduser()
            if root != cache and root not in roots:
                roots.append(root)
    return roots + [cache]


def download(urls, target, md5):
    """Fetch ``target`` from the first of ``urls`` that answers; check its md5.

    Parameters
    ----------
    urls : sequence of str
        Mirrors of the same file, tried in order.
    target : path-like
        Where the file lands; its directory is created if needed.
    md5 : str
        Expected hex md5 of the file.

    Returns
    -------
    target : Path

    Raises
    ------
    OSError
        If no URL could be fetched; the message lists each URL and its error.
    ValueError
        If the fetched bytes do not have the expected md5. Nothing is left
        behind in the target's directory.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        logger.info("Downloading %s to %s", url, target)
        try:
            actual = _fetch(url, part)
        except (OSError, http.client.HTTPException) as exc:
            part.unlink(missing_ok=True)
            failures.append(f"  {url}: {exc}")
            continue
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        if actual != md5:
            part.unlink()
            raise ValueError(
                f"Checksum mismatch for {target.name} downloaded from {url}: "
                f"expected md5 {md5}, got {actual}. The file was discarded."
            )
        os.replace(part, target)
        return target
    raise OSError(f"Could not download {target.name}:\n" + "\n".join(failures))


def _fetch(url, part):
    """Stream ``url`` into the new file ``part``; return the md5 of the bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    request = urllib.request.Request(url, headers={"User-Agent": "fastnn"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response, open(part, "xb") as out:
        while chunk := response.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()
