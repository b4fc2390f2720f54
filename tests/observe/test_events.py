"""Kernel event records -> systrace log lines."""

from bpfsystrace import abi
from bpfsystrace.observe import events


def event(op, text: bytes, err=1):
    ev = abi.BstEvent(op=op, errno_=err, str_len=len(text), policy=0, rule=abi.BST_RULE_NONE)
    abi.C.memmove(abi.C.addressof(ev) + abi.BstEvent.str.offset, text, len(text))
    ev.comm = b"mv"
    return events.decode(bytes(ev))


def test_rename_event_carries_both_filenames():
    ev = event(abi.BST_OP_RENAME, b"/slave/a\0/etc/passwd")
    assert ev.obj == "/slave/a\0/etc/passwd"
    line = events.systrace_line(ev, None)
    assert "syscall: native-rename, filename: /slave/a, filename[1]: /etc/passwd, errno: EPERM" in line


def test_one_string_event_and_operation_names():
    ev = event(abi.BST_OP_UNLINK, b"/etc/shadow")
    assert "syscall: native-unlink, filename: /etc/shadow, errno: EPERM" in events.systrace_line(ev, None)
    ev = event(abi.BST_OP_BIND, b"inet-[127.0.0.1]:53")
    assert "syscall: native-bind, sockaddr: inet-[127.0.0.1]:53" in events.systrace_line(ev, None)


def test_control_characters_in_a_name_cannot_forge_a_line():
    ev = event(abi.BST_OP_FSREAD, b"/tmp/a\ndeny user: root, prog: named\x1b[2K\\x")
    line = events.systrace_line(ev, None)
    assert "\n" not in line and "\x1b" not in line
    assert "filename: /tmp/a\\ndeny user: root, prog: named\\x1b[2K\\\\x, errno: EPERM" in line


def test_escape_is_one_line_and_reversible():
    import codecs

    from bpfsystrace.observe.escape import escape

    for raw in ("a\nb", "a\\nb", "\r\t\x00\x7f\x85\u2028", "x\\"):
        out = escape(raw)
        assert out.isascii() and out.isprintable(), out
        assert codecs.decode(out, "unicode_escape") == raw  # the original, unambiguously
    assert escape("plain/é") == "plain/é"
