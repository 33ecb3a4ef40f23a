#!/usr/bin/env python3
"""A CIB client that prints every change notification the CIB manager sends, with the
wall-clock time it arrived: one line "<CLOCK_REALTIME ns> <the notification as XML>" each.

This is the same notification (T_CIB_DIFF_NOTIFY, "cib_diff_notify") that pacemaker-controld
acts on when a transient attribute changes, so its arrival is when the new value is visible to
the cluster. Pacemaker's C API is called through ctypes (no development headers needed); the
struct layouts below are those of Pacemaker 2.1's include/crm/cib/cib_types.h (libcib.so.27).
Run it inside the cluster's namespaces; it runs until killed or the CIB connection drops.
"""
import ctypes
import sys
import time
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_void_p

cib_lib = ctypes.CDLL("libcib.so.27")
common = ctypes.CDLL("libcrmcommon.so.34")
glib = ctypes.CDLL("libglib-2.0.so.0")
libc = ctypes.CDLL(None)

NOTIFY = CFUNCTYPE(None, c_char_p, c_void_p)  # (const char *event, xmlNode *msg)
DNOTIFY = CFUNCTYPE(None, c_void_p)  # connection lost


class Ops(Structure):
    """The first members of cib_api_operations_t, in order."""

    _fields_ = [
        ("signon", CFUNCTYPE(c_int, c_void_p, c_char_p, c_int)),
        ("signon_raw", c_void_p),
        ("signoff", CFUNCTYPE(c_int, c_void_p)),
        ("free", c_void_p),
        ("set_op_callback", c_void_p),
        ("add_notify_callback", CFUNCTYPE(c_int, c_void_p, c_char_p, NOTIFY)),
        ("del_notify_callback", c_void_p),
        ("set_connection_dnotify", CFUNCTYPE(c_int, c_void_p, DNOTIFY)),
    ]


class Cib(Structure):
    """struct cib_s."""

    _fields_ = [
        ("state", c_int),
        ("type", c_int),
        ("variant", c_int),
        ("call_id", c_int),
        ("call_timeout", c_int),
        ("variant_opaque", c_void_p),
        ("delegate_fn", c_void_p),
        ("notify_list", c_void_p),
        ("op_callback", c_void_p),
        ("cmds", POINTER(Ops)),
    ]


CIB_QUERY = 1  # enum cib_conn_type: a read-only connection is enough for notifications
cib_lib.cib_new.restype = POINTER(Cib)
common.dump_xml_unformatted.restype = c_void_p
common.dump_xml_unformatted.argtypes = [c_void_p]
libc.free.argtypes = [c_void_p]
glib.g_main_loop_new.restype = c_void_p
glib.g_main_loop_new.argtypes = [c_void_p, c_int]
glib.g_main_loop_run.argtypes = [c_void_p]
glib.g_main_loop_quit.argtypes = [c_void_p]

out = sys.stdout
loop = glib.g_main_loop_new(None, 0)


def on_diff(_event, msg):
    t = time.clock_gettime_ns(time.CLOCK_REALTIME)  # first: before any work of ours
    p = common.dump_xml_unformatted(msg)
    text = ctypes.string_at(p).decode("utf-8", "replace").replace("\n", " ") if p else ""
    libc.free(p)
    out.write(f"{t} {text}\n")
    out.flush()


def on_lost(_data):
    out.write("lost\n")
    out.flush()
    glib.g_main_loop_quit(loop)


notify_cb = NOTIFY(on_diff)
lost_cb = DNOTIFY(on_lost)

cib = cib_lib.cib_new()
ops = cib.contents.cmds.contents
deadline = time.monotonic() + 60
while True:
    rc = ops.signon(cib, b"bench-cib-watch", CIB_QUERY)
    if rc == 0:
        break
    if time.monotonic() > deadline:
        sys.exit(f"cib signon failed: rc={rc}")
    time.sleep(0.2)
ops.set_connection_dnotify(cib, lost_cb)
rc = ops.add_notify_callback(cib, b"cib_diff_notify", notify_cb)
if rc != 0:
    sys.exit(f"cib add_notify_callback failed: rc={rc}")
out.write("ready\n")
out.flush()
glib.g_main_loop_run(loop)
