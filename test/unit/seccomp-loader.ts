// What the launcher does as its last step, for unit tests without root: a
// small Python (ctypes) loader sets no_new_privs, loads a compiled program
// with seccomp(2) and the given flags, and execs the command.
//
// argv: program-file flags command...; when the load returns a listener fd,
// prints LISTENER=<fd> on stderr, or, with HAKO_LISTENER_SOCK set, sends it
// (SCM_RIGHTS) on a connection to that unix socket and closes it, as the
// launcher hands listeners over.
export const LOADER = `
import ctypes, os, socket, struct, sys
prog = open(sys.argv[1], 'rb').read()
flags = int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(prog, len(prog))
class Fprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
fprog = Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    sys.exit('prctl: ' + os.strerror(ctypes.get_errno()))
libc.syscall.restype = ctypes.c_long
r = libc.syscall(317, 1, ctypes.c_ulong(flags), ctypes.byref(fprog))  # seccomp(SECCOMP_SET_MODE_FILTER)
if r < 0:
    sys.exit('seccomp: ' + os.strerror(ctypes.get_errno()))
if r > 0 and os.environ.get('HAKO_LISTENER_SOCK'):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ['HAKO_LISTENER_SOCK'])
    socket.send_fds(s, [b'{}'], [r])
    s.close()
    os.close(r)
elif r > 0:
    os.write(2, b'LISTENER=%d\\n' % r)
os.execvp(sys.argv[3], sys.argv[3:])
`;
