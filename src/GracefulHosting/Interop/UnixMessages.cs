using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace GracefulHosting.Interop;

// sendmsg(2) and recvmsg(2) with one descriptor as SCM_RIGHTS, and SO_PEERCRED: .NET exposes none of them.
[SupportedOSPlatform("linux")]
internal static partial class UnixMessages
{
    private const string LibraryName = "libc";
    private const int SCM_RIGHTS = 1;
    private const int SO_PEERCRED = 17;
    private const int MSG_DONTWAIT = 0x40;
    private const int MSG_TRUNC = 0x20;
    private const int MSG_CTRUNC = 0x8;
    private const int MSG_NOSIGNAL = 0x4000;
    // The received descriptor is close-on-exec from the start: the app's subprocesses never inherit it.
    private const int MSG_CMSG_CLOEXEC = 0x40000000;
    private const int SHUT_RDWR = 2;
    private const int EINTR = 4;
    private const int EAGAIN = 11;

    // LP64 layouts (x86_64 and arm64): cmsghdr is { size_t len; int level; int type; } and its data
    // starts 16 bytes in; CMSG_SPACE(sizeof(int)) is 24.
    private const int ControlHeaderSize = 16;
    private const int ControlSpace = 24;

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PeerCredentials
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    [LibraryImport(LibraryName, SetLastError = true)]
    private static unsafe partial nint sendmsg(int fd, MessageHeader* message, int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    private static unsafe partial nint recvmsg(int fd, MessageHeader* message, int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    private static unsafe partial int getsockopt(int fd, int level, int optname, void* optval, int* optlen);

    [LibraryImport(LibraryName, SetLastError = true)]
    private static partial int shutdown(int fd, int how);

    [LibraryImport(LibraryName, SetLastError = true)]
    private static unsafe partial int poll(PollDescriptor* fds, nuint count, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short Returned;
    }

    // Waits (up to timeoutMs) while the buffer is full, since the socket may be non-blocking.
    public static unsafe int Send(int socketFd, ReadOnlySpan<byte> data, int passedFd = -1, int timeoutMs = 5000)
    {
        byte* control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        fixed (byte* bytes = data)
        {
            var vector = new IoVector { Base = bytes, Length = (nuint)data.Length };
            var header = new MessageHeader { Vectors = &vector, VectorCount = 1 };
            if (passedFd >= 0)
            {
                *(nuint*)control = ControlHeaderSize + sizeof(int);
                *(int*)(control + 8) = Libc.SOL_SOCKET;
                *(int*)(control + 12) = SCM_RIGHTS;
                *(int*)(control + ControlHeaderSize) = passedFd;
                header.Control = control;
                header.ControlLength = ControlSpace;
            }

            while (true)
            {
                if (sendmsg(socketFd, &header, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
                {
                    return 0;
                }

                int error = Marshal.GetLastPInvokeError();
                if (error == EINTR)
                {
                    continue;
                }

                if (error != EAGAIN || !WaitWritable(socketFd, timeoutMs))
                {
                    return error;
                }
            }
        }
    }

    // The length (0 when the peer closed) or -errno; a message or descriptor list that did not fit is -EMSGSIZE, any descriptor closed.
    public static unsafe int Receive(int socketFd, Span<byte> buffer, out int receivedFd)
    {
        receivedFd = -1;
        byte* control = stackalloc byte[ControlSpace];
        fixed (byte* bytes = buffer)
        {
            while (true)
            {
                new Span<byte>(control, ControlSpace).Clear();
                var vector = new IoVector { Base = bytes, Length = (nuint)buffer.Length };
                var header = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = ControlSpace };
                nint read = recvmsg(socketFd, &header, MSG_CMSG_CLOEXEC);
                if (read < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    // A descriptor may come non-blocking (its flags are shared with whoever made it): wait for input.
                    if (error == EINTR || (error == EAGAIN && WaitReadable(socketFd)))
                    {
                        continue;
                    }

                    return -error;
                }

                if (header.ControlLength >= ControlHeaderSize + sizeof(int) &&
                    *(int*)(control + 8) == Libc.SOL_SOCKET && *(int*)(control + 12) == SCM_RIGHTS)
                {
                    receivedFd = *(int*)(control + ControlHeaderSize);
                }

                if ((header.Flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
                {
                    if (receivedFd >= 0)
                    {
                        Libc.Close(receivedFd);
                        receivedFd = -1;
                    }

                    return -90; // EMSGSIZE
                }

                return (int)read;
            }
        }
    }

    public static unsafe int GetPeer(int socketFd, out int pid, out uint uid)
    {
        PeerCredentials credentials = default;
        int length = sizeof(PeerCredentials);
        if (getsockopt(socketFd, Libc.SOL_SOCKET, SO_PEERCRED, &credentials, &length) == -1)
        {
            pid = 0;
            uid = uint.MaxValue;
            return Marshal.GetLastPInvokeError();
        }

        pid = credentials.Pid;
        uid = credentials.Uid;
        return 0;
    }

    // Wakes a thread blocked in Receive.
    public static int Shutdown(int socketFd) => shutdown(socketFd, SHUT_RDWR) == -1 ? Marshal.GetLastPInvokeError() : 0;

    private static unsafe bool WaitReadable(int fd)
    {
        var descriptor = new PollDescriptor { Fd = fd, Events = 1 }; // POLLIN
        int ready;
        while ((ready = poll(&descriptor, 1, -1)) < 0 && Marshal.GetLastPInvokeError() == EINTR)
        {
        }

        return ready > 0;
    }

    private static unsafe bool WaitWritable(int fd, int timeoutMs)
    {
        var descriptor = new PollDescriptor { Fd = fd, Events = 4 }; // POLLOUT
        return poll(&descriptor, 1, timeoutMs) > 0;
    }
}
