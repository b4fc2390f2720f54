"""ctypes bindings over the system libbpf (libbpf.so.1, Debian libbpf1 >= 1.1).

The only module that touches libbpf. Failed calls raise KernelError with the
operation, the object and the errno; libbpf's own messages (verifier logs
included) go to the `bpfsystrace.libbpf` logger and the last lines are kept for
error reports.
"""

from __future__ import annotations

import collections
import ctypes as C
import ctypes.util
import logging
import mmap as _mmap
import os

from ..errors import KernelError, UnsupportedKernel

log = logging.getLogger("bpfsystrace.libbpf")

_lib = None
_libc = C.CDLL(None, use_errno=True)
_libc.vsnprintf.argtypes = [C.c_char_p, C.c_size_t, C.c_char_p, C.c_void_p]

# The last lines libbpf printed (verifier log tails end up in error messages).
recent_messages: collections.deque[str] = collections.deque(maxlen=60)

_PRINT_FN = C.CFUNCTYPE(C.c_int, C.c_int, C.c_char_p, C.c_void_p)
SAMPLE_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_void_p, C.c_size_t)


_print_buf = C.create_string_buffer(1 << 22)  # verifier logs arrive as one message


@_PRINT_FN
def _print(level, fmt, args):
    buf = _print_buf
    _libc.vsnprintf(buf, len(buf), fmt, args)
    text = buf.value.decode(errors="replace").rstrip("\n")
    for line in text.splitlines():
        recent_messages.append(line)
        log.debug("%s", line)
    return 0


def _sig(name, restype, *argtypes):
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


def lib():
    """Load libbpf once and declare the functions we use."""
    global _lib
    if _lib is not None:
        return _lib
    path = ctypes.util.find_library("bpf") or "libbpf.so.1"
    try:
        _lib = C.CDLL(path, use_errno=True)
    except OSError as e:
        raise UnsupportedKernel(
            f"cannot load libbpf ({e})", "install Debian's libbpf1 (apt-get install libbpf1)"
        ) from None
    p, i, u32, u64, s = C.c_void_p, C.c_int, C.c_uint32, C.c_uint64, C.c_char_p
    _sig("libbpf_set_print", p, _PRINT_FN)
    _sig("libbpf_major_version", u32)
    _sig("libbpf_minor_version", u32)
    _sig("bpf_object__open_file", p, s, p)
    _sig("bpf_object__load", i, p)
    _sig("bpf_object__close", None, p)
    _sig("bpf_object__next_program", p, p, p)
    _sig("bpf_object__next_map", p, p, p)
    _sig("bpf_program__name", s, p)
    _sig("bpf_program__attach", p, p)
    _sig("bpf_program__fd", i, p)
    _sig("bpf_link__fd", i, p)
    _sig("bpf_program__set_autoload", i, p, C.c_bool)
    _sig("bpf_link__pin", i, p, s)
    _sig("bpf_link__destroy", i, p)
    _sig("bpf_map__name", s, p)
    _sig("bpf_map__fd", i, p)
    _sig("bpf_map__pin", i, p, s)
    _sig("bpf_map__reuse_fd", i, p, i)
    _sig("bpf_map__initial_value", p, p, C.POINTER(C.c_size_t))
    _sig("bpf_map__key_size", u32, p)
    _sig("bpf_map__value_size", u32, p)
    _sig("bpf_map__type", i, p)
    _sig("bpf_program__section_name", s, p)
    _sig("bpf_program__insn_cnt", C.c_size_t, p)
    _sig("bpf_obj_get", i, s)
    _sig("bpf_map_update_elem", i, i, p, p, u64)
    _sig("bpf_map_create", i, i, s, u32, u32, u32, p)
    _sig("bpf_map_lookup_elem", i, i, p, p)
    _sig("bpf_map_delete_elem", i, i, p)
    _sig("bpf_map_get_next_key", i, i, p, p)
    _sig("bpf_map_lookup_batch", i, i, p, p, p, p, C.POINTER(u32), p)
    _sig("bpf_map_delete_batch", i, i, p, C.POINTER(u32), p)
    _sig("bpf_map_update_batch", i, i, p, p, C.POINTER(u32), p)
    _sig("libbpf_num_possible_cpus", i)
    _sig("bpf_obj_get_info_by_fd", i, i, p, C.POINTER(u32))
    _sig("ring_buffer__new", p, i, SAMPLE_FN, p, p)
    _sig("ring_buffer__poll", i, p, i)
    _sig("ring_buffer__free", None, p)
    _lib.libbpf_set_print(_print)
    return _lib


def version() -> str:
    b = lib()
    return f"{b.libbpf_major_version()}.{b.libbpf_minor_version()}"


def _fail(op: str, obj: str, ret: int | None = None, hint: str | None = None):
    err = -ret if (ret is not None and ret < 0) else C.get_errno()
    raise KernelError(op, obj, err or 0, hint)


def check(ret: int, op: str, obj: str) -> int:
    """Raise KernelError for a negative libbpf return value."""
    if ret < 0:
        _fail(op, obj, ret)
    return ret


def check_ptr(ptr, op: str, obj: str):
    if not ptr:
        _fail(op, obj)
    return ptr


def obj_get(path: str) -> int:
    fd = lib().bpf_obj_get(path.encode())
    if fd < 0:
        _fail("open pinned object", path, fd)
    return fd


BPF_MAP_TYPE_ARRAY = 2


def create_array_map(key_size: int, value_size: int, entries: int) -> int:
    """A new, unnamed BPF array map (its fd): maps.grace()'s inner map."""
    return check(
        lib().bpf_map_create(BPF_MAP_TYPE_ARRAY, None, key_size, value_size, entries, None),
        "create map",
        "array",
    )


def map_value_size(fd: int) -> int:
    """value_size of a map (struct bpf_map_info: type, id, key_size, value_size, ...)."""
    info = (C.c_uint32 * 64)()
    size = C.c_uint32(C.sizeof(info))
    check(lib().bpf_obj_get_info_by_fd(fd, info, C.byref(size)), "get map info", str(fd))
    return info[3]


def map_max_entries(fd: int) -> int:
    """max_entries of a map (struct bpf_map_info's fifth field)."""
    info = (C.c_uint32 * 64)()
    size = C.c_uint32(C.sizeof(info))
    check(lib().bpf_obj_get_info_by_fd(fd, info, C.byref(size)), "get map info", str(fd))
    return info[4]


def obj_id(fd: int) -> int:
    """The kernel id of a map, program or link (each info struct: type, id, ...)."""
    info = (C.c_uint32 * 64)()
    size = C.c_uint32(C.sizeof(info))
    check(lib().bpf_obj_get_info_by_fd(fd, info, C.byref(size)), "get object info", str(fd))
    return info[1]


def num_possible_cpus() -> int:
    return check(lib().libbpf_num_possible_cpus(), "count possible CPUs", "libbpf")


class Map:
    """A map by file descriptor with typed keys and values (ctypes structs)."""

    def __init__(self, fd: int, name: str, key_type, value_type, percpu: bool = False):
        self.fd, self.name = fd, name
        self.key_type, self.value_type, self.percpu = key_type, value_type, percpu
        self._ncpu = num_possible_cpus() if percpu else 1

    def _value_buf(self):
        if self.percpu:
            return (self.value_type * self._ncpu)()
        return self.value_type()

    def update(self, key, value, flags: int = 0) -> None:
        ret = lib().bpf_map_update_elem(self.fd, C.byref(key), C.byref(value), flags)
        check(ret, "update map", self.name)

    def lookup(self, key):
        val = self._value_buf()
        ret = lib().bpf_map_lookup_elem(self.fd, C.byref(key), C.byref(val))
        if ret < 0:
            if -ret == 2 or C.get_errno() == 2:  # ENOENT
                return None
            check(ret, "look up map", self.name)
        return val

    def delete(self, key) -> bool:
        ret = lib().bpf_map_delete_elem(self.fd, C.byref(key))
        if ret < 0:
            if -ret == 2 or C.get_errno() == 2:
                return False
            check(ret, "delete from map", self.name)
        return True

    BATCH = 4096

    def keys(self):
        """All keys (collected first, so deleting while iterating is safe).

        One bpf(BPF_MAP_LOOKUP_BATCH) per 4096 entries; one get_next_key per
        entry where the kernel has no batch operation for the map."""
        return [k for k, _ in self._batched(values=False)]

    def items(self):
        """All (key, value) pairs, as keys() reads them (one lookup per key
        where the kernel has no batch operation); per-CPU values as lookup()
        returns them."""
        return self._batched(values=True)

    def _batched(self, values: bool):
        ksz = C.sizeof(self.key_type)
        one = C.sizeof(self.value_type)
        vsz = ((one + 7) & ~7) * self._ncpu if self.percpu else one
        keys = (C.c_uint8 * (ksz * self.BATCH))()
        vals = (C.c_uint8 * (vsz * self.BATCH))()
        tok_in, tok_out = C.c_uint64(), C.c_uint64()
        out: list = []
        first = True

        def value(i):
            if not values:
                return None
            if self.percpu and one % 8 == 0:
                return (self.value_type * self._ncpu).from_buffer_copy(vals, i * vsz)
            if not self.percpu:
                return self.value_type.from_buffer_copy(vals, i * vsz)
            return self.lookup(self.key_type.from_buffer_copy(keys, i * ksz))

        while True:
            count = C.c_uint32(self.BATCH)
            ret = lib().bpf_map_lookup_batch(
                self.fd,
                None if first else C.byref(tok_in),
                C.byref(tok_out),
                keys,
                vals,
                C.byref(count),
                None,
            )
            err = -ret if ret < 0 else 0
            if err and err != 2 and not out and first:
                return self._one_by_one(values)  # EINVAL/ENOTSUPP/ENOSPC: no batching here
            out.extend((self.key_type.from_buffer_copy(keys, i * ksz), value(i)) for i in range(count.value))
            if err == 2:  # ENOENT: that was the last batch
                return [kv for kv in out if kv[1] is not None or not values]
            if err:
                if err == 28:  # ENOSPC: one bucket larger than a batch
                    return self._one_by_one(values)
                check(ret, "iterate map", self.name)
            tok_in.value, first = tok_out.value, False

    def _one_by_one(self, values: bool):
        out = []
        for k in self._keys_one_by_one():
            v = self.lookup(k) if values else None
            if v is not None or not values:
                out.append((k, v))
        return out

    def update_many(self, items) -> None:
        """Write (key, value) pairs: one bpf(BPF_MAP_UPDATE_BATCH) per BATCH
        where the kernel has it, else one update each. Per-CPU values are
        arrays of `_ncpu` elements, as for update()."""
        items = list(items)
        if not items:
            return
        ksz = C.sizeof(self.key_type)
        vsz = C.sizeof(items[0][1])
        for start in range(0, len(items), self.BATCH):
            chunk = items[start : start + self.BATCH]
            kbuf = (C.c_uint8 * (ksz * len(chunk)))()
            vbuf = (C.c_uint8 * (vsz * len(chunk)))()
            for i, (k, v) in enumerate(chunk):
                C.memmove(C.byref(kbuf, i * ksz), C.byref(k), ksz)
                C.memmove(C.byref(vbuf, i * vsz), C.byref(v), vsz)
            count = C.c_uint32(len(chunk))
            ret = lib().bpf_map_update_batch(self.fd, kbuf, vbuf, C.byref(count), None)
            if ret < 0:
                done = count.value if -ret not in (22, 95, 524) else 0  # EINVAL/EOPNOTSUPP/ENOTSUPP
                for k, v in chunk[done:]:  # the rest one by one: update() says what failed
                    self.update(k, v)

    def delete_many(self, keys) -> None:
        """Delete the given keys (one batch syscall when the kernel has it)."""
        if not keys:
            return
        ksz = C.sizeof(self.key_type)
        buf = (C.c_uint8 * (ksz * len(keys)))()
        for i, k in enumerate(keys):
            C.memmove(C.byref(buf, i * ksz), C.byref(k), ksz)
        count = C.c_uint32(len(keys))
        ret = lib().bpf_map_delete_batch(self.fd, buf, C.byref(count), None)
        if ret < 0:
            for k in keys[count.value :]:  # the rest one by one (or all, without batching)
                self.delete(k)

    def _keys_one_by_one(self):
        out, prev = [], None
        while True:
            nxt = self.key_type()
            ret = lib().bpf_map_get_next_key(
                self.fd, C.byref(prev) if prev is not None else None, C.byref(nxt)
            )
            if ret < 0:
                if -ret == 2 or C.get_errno() == 2:
                    return out
                check(ret, "iterate map", self.name)
            out.append(nxt)
            prev = nxt

    def mmap(self):
        """The values of a BPF_F_MMAPABLE array, mapped shared and writable
        (the kernel maps whole pages: max_entries * value_size, rounded up)."""
        size = map_max_entries(self.fd) * C.sizeof(self.value_type)
        size = (size + _mmap.PAGESIZE - 1) // _mmap.PAGESIZE * _mmap.PAGESIZE
        try:
            return _mmap.mmap(self.fd, size, _mmap.MAP_SHARED, _mmap.PROT_READ | _mmap.PROT_WRITE)
        except OSError as e:
            raise KernelError("map into memory", self.name, e.errno or 0) from None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class RingBuffer:
    """Consumer of a BPF ring buffer; `callback(bytes)` gets each record."""

    def __init__(self, map_fd: int, callback):
        self._stopped: BaseException | None = None

        def sample(_ctx, data, size):
            try:
                callback(C.string_at(data, size))
            except Exception:  # a broken consumer must not unwind through C
                log.exception("event callback failed")
            except BaseException as e:  # Ctrl-C, SIGTERM: stop polling, raised by poll()
                self._stopped = e
                return -4  # EINTR: ring_buffer__poll stops here
            return 0

        self._cb = SAMPLE_FN(sample)  # keep a reference: C holds it
        self._rb = check_ptr(
            lib().ring_buffer__new(map_fd, self._cb, None, None), "create ring buffer", "events"
        )

    def poll(self, timeout_ms: int) -> int:
        ret = lib().ring_buffer__poll(self._rb, timeout_ms)
        if self._stopped is not None:  # a signal's exception, raised in a callback
            stopped, self._stopped = self._stopped, None
            raise stopped
        if ret < 0 and -ret != 4:  # EINTR is fine
            check(ret, "poll ring buffer", "events")
        return max(ret, 0)

    def drain(self) -> None:
        """Consume every record waiting now (no waiting for more)."""
        while self.poll(0) > 0:
            pass

    def close(self) -> None:
        if self._rb:
            lib().ring_buffer__free(self._rb)
            self._rb = None
