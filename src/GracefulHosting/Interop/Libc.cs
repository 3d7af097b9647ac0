using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace GracefulHosting.Interop;

/// <summary>The few libc calls that .NET does not expose: descriptor flags, socket options, signals.</summary>
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

    /// <summary>How many bytes wait to be read on a pipe or socket (FIONREAD), or 0 if that cannot be told.</summary>
    public static unsafe int BytesToRead(int fd)
    {
        int count = 0;
        return IoctlInt(fd, FIONREAD, &count) == 0 ? count : 0;
    }

    [LibraryImport(LibraryName, EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2Native(int oldfd, int newfd);

    /// <summary>Makes <paramref name="newFd"/> a copy of <paramref name="oldFd"/> (dup2); returns 0 or errno.</summary>
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

    /// <summary>The file type bits of <c>st_mode</c> for a socket.</summary>
    public const int S_IFSOCK = 0xC000;

    /// <summary>Returns the descriptor flags of <paramref name="fd"/>, or -1 with errno set.</summary>
    public static int GetDescriptorFlags(int fd) => FcntlInt(fd, F_GETFD, 0);

    /// <summary>Sets or clears FD_CLOEXEC; returns errno, 0 on success.</summary>
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

    /// <summary>Reads an integer socket option; returns errno, 0 on success.</summary>
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

    /// <summary>Creates a close-on-exec AF_UNIX SOCK_SEQPACKET pair; returns errno, 0 on success.</summary>
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

    /// <summary>A close-on-exec duplicate of <paramref name="fd"/> (F_DUPFD_CLOEXEC), or -1 with errno set.</summary>
    public static int DuplicateCloseOnExec(int fd) => FcntlInt(fd, F_DUPFD_CLOEXEC, 3);

    /// <summary>Closes a raw descriptor without shutdown(2); returns errno, 0 on success.</summary>
    public static int Close(int fd) => CloseFd(fd) == -1 ? Marshal.GetLastPInvokeError() : 0;

    /// <summary>
    /// Reads the type of the file at <paramref name="path"/> (the <c>S_IFMT</c> bits of its mode),
    /// without following a symbolic link; returns errno, 0 on success. statx(2) is used because its
    /// buffer has the same layout on every architecture, unlike <c>struct stat</c>.
    /// </summary>
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

    /// <summary>The effective user id of this process.</summary>
    public static uint GetEffectiveUserId() => GetEuid();

    /// <summary>Sends a signal; returns errno, 0 on success.</summary>
    public static int Kill(int pid, int signal) => KillProcess(pid, signal) == -1 ? Marshal.GetLastPInvokeError() : 0;

    // glibc's struct sigaction is 152 bytes on 64-bit Linux and starts with the handler on every
    // architecture; SIG_DFL is 0 and SIG_IGN is 1.
    private const int SigActionSize = 256;
    private const nint SIG_IGN = 1;

    /// <summary>
    /// If <paramref name="signal"/> is ignored (a parent such as <c>nohup</c> set SIG_IGN, which exec
    /// keeps), sets it back to its default action and returns true. The runtime leaves a signal that
    /// was ignored ignored, so a PosixSignalRegistration for it would never run. Returns false, and
    /// changes nothing, for a signal that is not ignored or that cannot be read.
    /// </summary>
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

    /// <summary>Sets <paramref name="signal"/> to be ignored (SIG_IGN); returns errno, 0 on success.</summary>
    public static unsafe int Ignore(int signal)
    {
        byte* ignore = stackalloc byte[SigActionSize];
        new Span<byte>(ignore, SigActionSize).Clear();
        *(nint*)ignore = SIG_IGN;
        return SigAction(signal, ignore, null) == -1 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>The absolute path of <paramref name="path"/> with every symbolic link resolved, or null if it does not exist.</summary>
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
