using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace GracefulHosting.Interop;

// The libc calls .NET does not expose. Each returns errno, 0 on success, unless it says otherwise.
[SupportedOSPlatform("linux")]
internal static partial class Libc
{
    private const string LibraryName = "libc";

    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;
    public const int F_DUPFD_CLOEXEC = 1030;

    public const int SOL_SOCKET = 1;
    public const int SO_TYPE = 3;
    public const int SO_ACCEPTCONN = 30;
    public const int SO_DOMAIN = 39;

    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int SIGHUP = Signals.SIGHUP;
    public const int SIGKILL = Signals.SIGKILL;
    public const int SIGUSR1 = Signals.SIGUSR1;
    public const int SIGUSR2 = Signals.SIGUSR2;
    public const int SIGTERM = Signals.SIGTERM;

    public const int ENOENT = 2;
    public const int EBADF = 9;
    public const int ESRCH = 3;
    public const int ENOTSOCK = 88;

    [LibraryImport(LibraryName, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlInt(int fd, int cmd, int arg);

    [LibraryImport(LibraryName, SetLastError = true)]
    private static unsafe partial int getsockopt(int fd, int level, int optname, int* optval, int* optlen);

    [LibraryImport(LibraryName, SetLastError = true)]
    private static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(LibraryName, EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseFd(int fd);

    [LibraryImport(LibraryName, EntryPoint = "kill", SetLastError = true)]
    private static partial int KillProcess(int pid, int sig);

    [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int IoctlInt(int fd, nuint request, int* value);

    private const nuint FIONREAD = 0x541B;

    // Bytes waiting to be read (FIONREAD), or 0 if that cannot be told.
    public static unsafe int BytesToRead(int fd)
    {
        int count = 0;
        return IoctlInt(fd, FIONREAD, &count) == 0 ? count : 0;
    }

    [LibraryImport(LibraryName, EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2Native(int oldfd, int newfd);

    public static int Dup2(int oldFd, int newFd) => Dup2Native(oldFd, newFd) < 0 ? Marshal.GetLastPInvokeError() : 0;

    [LibraryImport(LibraryName, EntryPoint = "sigaction", SetLastError = true)]
    private static unsafe partial int SigAction(int signum, byte* act, byte* oldact);

    [LibraryImport(LibraryName, EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint RealPathNative(string path, nint resolved);
    [LibraryImport(LibraryName, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatX(int dirfd, string pathname, int flags, uint mask, byte* buffer);

    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const uint STATX_TYPE = 1;
    private const int StatXSize = 256;
    private const int StatXModeOffset = 28;
    private const int S_IFMT = 0xF000;

    public const int S_IFSOCK = 0xC000;

    // -1 with errno set.
    public static int GetDescriptorFlags(int fd) => FcntlInt(fd, F_GETFD, 0);

    public static int SetCloseOnExec(int fd, bool closeOnExec)
    {
        int flags = FcntlInt(fd, F_GETFD, 0);
        if (flags == -1)
        {
            return Marshal.GetLastPInvokeError();
        }

        int wanted = closeOnExec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        if (wanted != flags && FcntlInt(fd, F_SETFD, wanted) == -1)
        {
            return Marshal.GetLastPInvokeError();
        }

        return 0;
    }

    public static unsafe int GetSocketOption(int fd, int level, int option, out int value)
    {
        int result = 0;
        int length = sizeof(int);
        if (getsockopt(fd, level, option, &result, &length) == -1)
        {
            value = 0;
            return Marshal.GetLastPInvokeError();
        }

        value = result;
        return 0;
    }

    public static unsafe int CreateSeqPacketPair(out int first, out int second)
    {
        int* pair = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == -1)
        {
            first = second = -1;
            return Marshal.GetLastPInvokeError();
        }

        first = pair[0];
        second = pair[1];
        return 0;
    }

    // -1 with errno set.
    public static int DuplicateCloseOnExec(int fd) => FcntlInt(fd, F_DUPFD_CLOEXEC, 3);

    // Without shutdown(2), which a disposing Socket may call and which stops every process sharing the socket.
    public static int Close(int fd) => CloseFd(fd) == -1 ? Marshal.GetLastPInvokeError() : 0;

    // statx(2), not stat(2): its buffer has the same layout on every architecture. Does not follow a link.
    public static unsafe int GetFileType(string path, out int type)
    {
        byte* buffer = stackalloc byte[StatXSize];
        if (StatX(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, buffer) == -1)
        {
            type = 0;
            return Marshal.GetLastPInvokeError();
        }

        type = *(ushort*)(buffer + StatXModeOffset) & S_IFMT;
        return 0;
    }

    public static uint GetEffectiveUserId() => GetEuid();

    public static int Kill(int pid, int signal) => KillProcess(pid, signal) == -1 ? Marshal.GetLastPInvokeError() : 0;

    // glibc's struct sigaction is 152 bytes on 64-bit Linux and starts with the handler on every
    // architecture; SIG_DFL is 0 and SIG_IGN is 1.
    private const int SigActionSize = 256;
    private const nint SIG_IGN = 1;

    // The runtime leaves a signal ignored (nohup's SIG_IGN survives exec), and a PosixSignalRegistration for it would never run.
    public static unsafe bool ResetIfIgnored(int signal)
    {
        byte* current = stackalloc byte[SigActionSize];
        new Span<byte>(current, SigActionSize).Clear();
        if (SigAction(signal, null, current) == -1 || *(nint*)current != SIG_IGN)
        {
            return false;
        }

        byte* defaults = stackalloc byte[SigActionSize];
        new Span<byte>(defaults, SigActionSize).Clear();
        return SigAction(signal, defaults, null) == 0;
    }

    public static unsafe int Ignore(int signal)
    {
        byte* ignore = stackalloc byte[SigActionSize];
        new Span<byte>(ignore, SigActionSize).Clear();
        *(nint*)ignore = SIG_IGN;
        return SigAction(signal, ignore, null) == -1 ? Marshal.GetLastPInvokeError() : 0;
    }

    // Null if it does not exist.
    public static unsafe string? RealPath(string path)
    {
        nint resolved = RealPathNative(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            NativeMemory.Free((void*)resolved);
        }
    }
}
