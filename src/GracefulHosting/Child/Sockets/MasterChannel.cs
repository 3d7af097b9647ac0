using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Child.Sockets;

// A socket pair end only this child inherited, so no other process can speak on it; it ends when the master dies, even by SIGKILL.
[SupportedOSPlatform("linux")]
internal sealed class MasterChannel : IListenSocketSource, IDisposable
{
    private const int MaxPacket = 64 * 1024;

    // Sent by the master just before it stops this generation for a restart.
    public const string RestartNotice = "RESTART=1\n";

    private readonly int _fd;
    private readonly SemaphoreSlim _oneRequest = new(1, 1);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private TaskCompletionSource<(SocketReply? Reply, int Fd)>? _pending;
    private int _disposed;
    private int _ended;
    private bool _restartAnnounced;

    // The fd is checked and close-on-exec already, and owned from here on.
    public MasterChannel(int fd)
    {
        _fd = fd;
        // A blocking receive on a thread of its own: it sees the master's replies and its death at once,
        // also while the host is still being built.
        new Thread(ReadLoop) { IsBackground = true, Name = "GracefulHosting master channel" }.Start();
    }

    public Task Closed => _closed.Task;

    // Another generation serves then, so the health check keeps the service healthy while this one drains.
    public bool RestartAnnounced => Volatile.Read(ref _restartAnnounced);

    public string Name => "the master";

    public string? Send(string lines)
    {
        int error = UnixMessages.Send(_fd, Encoding.UTF8.GetBytes(lines));
        return error == 0 ? null : $"errno {error}";
    }

    public async ValueTask<int> AcquireAsync(SocketRequest request, CancellationToken cancellationToken)
    {
        await _oneRequest.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var pending = new TaskCompletionSource<(SocketReply?, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                _pending = _closed.Task.IsCompleted ? null : pending;
            }

            if (_pending is null)
            {
                throw Gone(request);
            }

            string? error = Send(request.Format());
            if (error is not null)
            {
                throw new InvalidOperationException($"Cannot ask the master for a socket for {request.Endpoint}: {error}.");
            }

            // Once asked, the answer is awaited whatever the token says: the master answers at once or the
            // channel closes, and an answer left unread would be taken for the next request's.
            var (reply, fd) = await pending.Task.ConfigureAwait(false);
            if (reply is null)
            {
                throw Gone(request);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                if (fd >= 0)
                {
                    Libc.Close(fd);
                }

                cancellationToken.ThrowIfCancellationRequested();
            }

            if (reply.Granted && reply.Endpoint != request.Endpoint)
            {
                if (fd >= 0)
                {
                    Libc.Close(fd);
                }

                throw new InvalidOperationException($"The master answered for {reply.Endpoint} when asked for {request.Endpoint}.");
            }

            if (!reply.Granted || fd < 0)
            {
                if (fd >= 0)
                {
                    Libc.Close(fd);
                }

                string message = reply.Error ?? $"the master answered for {request.Endpoint} without a descriptor";
                throw reply.Refusal == SocketRefusal.InUse ? new AddressInUseException(message) : new InvalidOperationException(message);
            }

            return fd;
        }
        finally
        {
            lock (_lock)
            {
                _pending = null;
            }

            _oneRequest.Release();
        }
    }

    private static InvalidOperationException Gone(SocketRequest request) =>
        new($"Cannot get a socket for {request.Endpoint}: the master's control channel is closed.");

    private void ReadLoop()
    {
        var buffer = new byte[MaxPacket];
        while (true)
        {
            int read = UnixMessages.Receive(_fd, buffer, out int fd);
            if (read <= 0 && read != -90)
            {
                break;
            }

            string text = read > 0 ? Encoding.UTF8.GetString(buffer, 0, read) : "";
            if (text == RestartNotice)
            {
                // Not a reply: nothing waits for it.
                Volatile.Write(ref _restartAnnounced, true);
                if (fd >= 0)
                {
                    Libc.Close(fd);
                }

                continue;
            }

            var reply = read > 0 ? SocketReply.Parse(text) : null;
            reply ??= SocketReply.Refuse(SocketRefusal.Other, "The master's answer could not be read.");
            TaskCompletionSource<(SocketReply?, int)>? pending;
            lock (_lock)
            {
                pending = _pending;
                _pending = null;
            }

            if (pending is null || !pending.TrySetResult((reply, fd)))
            {
                // Nothing asked: a descriptor that came anyway is not ours to keep.
                if (fd >= 0)
                {
                    Libc.Close(fd);
                }
            }
        }

        lock (_lock)
        {
            _pending?.TrySetResult((null, -1));
            _pending = null;
        }

        _closed.TrySetResult();
        CloseOnceBothEnded();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Wakes the receive with end of file; the descriptor is closed only once nothing reads it.
            UnixMessages.Shutdown(_fd);
            CloseOnceBothEnded();
        }
    }

    // A descriptor closed while the reading thread still waits on it could be reused under it by the next open.
    private void CloseOnceBothEnded()
    {
        if (Interlocked.Increment(ref _ended) == 2)
        {
            Libc.Close(_fd);
        }
    }
}
