"""A seccomp filter for each run's process: no new processes, namespaces, mounts, tracing or kernel extras.

Needed because bubblewrap started by root maps the sandbox's unprivileged uid to root outside the namespace, and
the kernel exempts root from ``RLIMIT_NPROC``: without the filter a run could fork without limit. The program is
compiled on the host by libseccomp (through ``pyseccomp``) and handed to the template as bytes; each run's process
loads it (``prctl``) before any designer code runs. The template itself keeps ``fork``: it makes the runs.
"""

from __future__ import annotations

import ctypes
import errno
import tempfile

DENIED = (
    "fork",
    "vfork",
    "clone",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "io_uring_setup",
)
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_INSTRUCTION_BYTES = 8


def build_filter() -> bytes:
    """The compiled filter (classic BPF for this machine's architecture); OSError or RuntimeError without
    libseccomp."""
    import pyseccomp  # type: ignore[import-untyped]  # ctypes over libseccomp; the host only

    rules = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in DENIED:
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")  # the C library then tries clone, refused above
    with tempfile.TemporaryFile() as file:
        rules.export_bpf(file)
        file.seek(0)
        return file.read()


class _Program(ctypes.Structure):
    _fields_ = [("length", ctypes.c_ushort), ("instructions", ctypes.c_void_p)]


class Confinement:
    """A filter prepared in the template, loaded by each run's process with :meth:`apply` (no allocation there)."""

    def __init__(self, program: bytes) -> None:
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._program = _Program(len(program) // _INSTRUCTION_BYTES, ctypes.addressof(self._buffer))
        self._libc = ctypes.CDLL(None, use_errno=True)

    def apply(self) -> None:
        """Loads the filter into the calling process for good; OSError when the kernel refuses it."""
        if self._libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if self._libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(self._program), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")
