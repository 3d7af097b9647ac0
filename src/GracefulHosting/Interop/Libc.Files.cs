using System.Runtime.InteropServices;
using System.Text;

namespace GracefulHosting.Interop;

internal static partial class Libc
{
    public const int EACCES = 13;
    public const int EADDRINUSE = 98;

    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000;
    private const int O_CLOEXEC = 0x80000;
    private const int LOCK_EX = 2;
    private const int EINTR = 4;
    private const int ENAMETOOLONG = 36;
    private const uint STATX_INO = 0x100;
    private const int StatXInodeOffset = 32;
    private const int StatXDeviceMajorOffset = 136;
    private const int StatXDeviceMinorOffset = 140;
    // sizeof(sockaddr_un.sun_path): the path and its terminating zero.
    private const int UnixPathSize = 108;

    [LibraryImport(LibraryName, EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketNative(int domain, int type, int protocol);

    [LibraryImport(LibraryName, EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int BindNative(int fd, byte* address, int length);

    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport(LibraryName, EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockNative(int fd, int operation);

    [LibraryImport(LibraryName, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkNative(string path);

    // Bound here, not by Socket.Bind: a Socket's Dispose deletes whatever file is at the path by then, even another process's.
    public static unsafe int BindUnixStream(string path, out int fd)
    {
        byte[] name = Encoding.UTF8.GetBytes(path);
        fd = -1;
        if (name.Length >= UnixPathSize)
        {
            return ENAMETOOLONG;
        }

        int socket = SocketNative(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (socket == -1)
        {
            return Marshal.GetLastPInvokeError();
        }

        byte* address = stackalloc byte[2 + UnixPathSize];
        new Span<byte>(address, 2 + UnixPathSize).Clear();
        *(ushort*)address = AF_UNIX;
        name.CopyTo(new Span<byte>(address + 2, UnixPathSize));
        if (BindNative(socket, address, 2 + name.Length + 1) == -1)
        {
            int error = Marshal.GetLastPInvokeError();
            Close(socket);
            return error;
        }

        fd = socket;
        return 0;
    }

    // Does not follow a link.
    public static unsafe int GetFileIdentity(string path, out (ulong Device, ulong Inode) identity)
    {
        byte* buffer = stackalloc byte[StatXSize];
        if (StatX(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_INO, buffer) == -1)
        {
            identity = default;
            return Marshal.GetLastPInvokeError();
        }

        ulong device = ((ulong)*(uint*)(buffer + StatXDeviceMajorOffset) << 32) | *(uint*)(buffer + StatXDeviceMinorOffset);
        identity = (device, *(ulong*)(buffer + StatXInodeOffset));
        return 0;
    }

    // Returns the descriptor, whose close releases the lock, or -errno.
    public static int LockFolder(string path)
    {
        int fd = OpenNative(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd == -1)
        {
            return -Marshal.GetLastPInvokeError();
        }

        while (FlockNative(fd, LOCK_EX) == -1)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error != EINTR)
            {
                Close(fd);
                return -error;
            }
        }

        return fd;
    }

    public static int Unlink(string path) => UnlinkNative(path) == -1 ? Marshal.GetLastPInvokeError() : 0;
}
