using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master.Sockets;

// As Kestrel's socket transport binds, and throwing what it throws: AddressInUseException, which Kestrel never skips, for an address in use.
[SupportedOSPlatform("linux")]
internal static class SocketBinder
{
    private const int Backlog = 512;
    private const int SO_REUSEADDR = 2;

    public static BoundListener Bind(EndPoint requested, string endpoint, string setting, ILogger logger)
    {
        try
        {
            return requested switch
            {
                FileHandleEndPoint handle => Adopt(handle, endpoint, setting),
                UnixDomainSocketEndPoint unix => Open(unix, endpoint, setting, logger),
                _ => new BoundListener(endpoint, Open(requested), ListenerOrigin.Bound),
            };
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(Message(endpoint, setting, "the address is already in use by another process"), e);
        }
        catch (SocketException e)
        {
            string reason = e.SocketErrorCode switch
            {
                SocketError.AccessDenied => requested is IPEndPoint
                    ? "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                    : "permission denied",
                SocketError.AddressNotAvailable => "the address does not belong to this machine",
                _ => e.Message,
            };
            throw new InvalidOperationException(Message(endpoint, setting, reason), e);
        }
    }

    private static Socket Open(EndPoint endpoint) =>
        Listen(new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp), endpoint, socket =>
        {
            if (endpoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // Plain SO_REUSEADDR, as Kestrel binds: SocketOptionName.ReuseAddress would add SO_REUSEPORT on
            // Linux, and the bind would then share a port that another server already listens on.
            socket.SetRawSocketOption(Libc.SOL_SOCKET, SO_REUSEADDR, BitConverter.GetBytes(1));
        });

    private static Socket Listen(Socket socket, EndPoint endpoint, Action<Socket>? prepare = null)
    {
        try
        {
            prepare?.Invoke(socket);
            socket.Bind(endpoint);
            socket.Listen(Backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // A stale file is removed only if it is a socket nothing accepts on, under the folder's lock, so two masters cannot remove each other's.
    private static BoundListener Open(UnixDomainSocketEndPoint endpoint, string text, string setting, ILogger logger)
    {
        string path = endpoint.ToString();
        if (path.Length == 0 || path[0] == '@' || path[0] == '\0')
        {
            // An abstract name: no file.
            return new BoundListener(text, Listen(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified), endpoint), ListenerOrigin.Bound);
        }

        path = Path.GetFullPath(path);
        FolderLock folder;
        try
        {
            folder = FolderLock.Take(Path.GetDirectoryName(path)!);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(Message(text, setting, e.Message), e);
        }

        using (folder)
        {
            RemoveStaleSocketFile(path, text, setting, logger);
            int error = Libc.BindUnixStream(path, out int fd);
            if (error != 0)
            {
                throw error switch
                {
                    Libc.EADDRINUSE => new SocketException((int)SocketError.AddressAlreadyInUse),
                    Libc.EACCES => new SocketException((int)SocketError.AccessDenied),
                    _ => new InvalidOperationException(Message(text, setting, Marshal.GetPInvokeErrorMessage(error))),
                };
            }

            var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            try
            {
                socket.Listen(Backlog);
                Libc.GetFileIdentity(path, out var identity);
                return new BoundListener(text, socket, ListenerOrigin.Bound, new UnixSocketFile(path, identity));
            }
            catch
            {
                socket.Dispose();
                Libc.Unlink(path);
                throw;
            }
        }
    }

    private static void RemoveStaleSocketFile(string path, string endpoint, string setting, ILogger logger)
    {
        int error = Libc.GetFileType(path, out int type);
        if (error == Libc.ENOENT)
        {
            return;
        }

        if (error != 0)
        {
            throw new InvalidOperationException(Message(endpoint, setting, $"cannot inspect the existing file (errno {error})"));
        }

        if (type != Libc.S_IFSOCK)
        {
            throw new InvalidOperationException(Message(endpoint, setting, "the path exists and is not a socket; remove it or choose another path"));
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false })
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                File.Delete(path);
                EndpointLog.StaleSocketFileRemoved(logger, path);
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode != SocketError.WouldBlock)
            {
                throw new InvalidOperationException(Message(endpoint, setting, $"cannot check the existing socket file: {e.Message}"), e);
            }
        }

        // The connection succeeded, or waits in a full backlog: a live process listens there.
        throw new AddressInUseException(Message(endpoint, setting, "another process listens on this socket file"));
    }

    // Taken as it is, not bound.
    private static BoundListener Adopt(FileHandleEndPoint handle, string endpoint, string setting)
    {
        int fd = checked((int)handle.FileHandle);
        try
        {
            SocketDescriptors.CheckListeningStream(fd, $"descriptor {fd}");
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(Message(endpoint, setting, e.Message.TrimEnd('.')), e);
        }

        Libc.SetCloseOnExec(fd, closeOnExec: true);
        // Not owned: disposing an owning Socket could shutdown(2) it; the set closes it with close(2).
        return new BoundListener(endpoint, new Socket(new SafeSocketHandle(fd, ownsHandle: false)), ListenerOrigin.Handle);
    }

    private static string Message(string endpoint, string setting, string reason) =>
        $"Cannot listen on {endpoint} for {setting}: {reason}.";
}
