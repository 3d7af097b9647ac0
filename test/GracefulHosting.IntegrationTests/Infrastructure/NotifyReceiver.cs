using System.Net.Sockets;
using System.Text;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>A stand-in for systemd's notify socket: a unix datagram socket that records every message.</summary>
internal sealed class NotifyReceiver : IDisposable
{
    private readonly Socket _socket;
    private readonly TempDirectory? _directory;
    private readonly List<string> _messages = [];
    private readonly SemaphoreSlim _received = new(0);
    private readonly Task _loop;

    /// <param name="abstractName">Bind in the abstract namespace (NOTIFY_SOCKET=@name) instead of a file.</param>
    public NotifyReceiver(bool abstractName = false)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        if (abstractName)
        {
            string name = "graceful-notify-" + Guid.NewGuid().ToString("N")[..12];
            _socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
            Address = "@" + name;
        }
        else
        {
            _directory = new TempDirectory();
            Address = Path.Combine(_directory.Path, "notify.sock");
            _socket.Bind(new UnixDomainSocketEndPoint(Address));
        }

        _loop = Task.Run(ReceiveAsync);
    }

    /// <summary>The value for NOTIFY_SOCKET.</summary>
    public string Address { get; }

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Messages without the ones that only carry STATUS= or WATCHDOG=1.</summary>
    public IReadOnlyList<string> StateChanges => Messages
        .Select(m => string.Join('\n', m.Split('\n').Where(l => !l.StartsWith("STATUS=", StringComparison.Ordinal) && !l.StartsWith("MONOTONIC_USEC=", StringComparison.Ordinal))))
        .Where(m => m.Length > 0 && m != "WATCHDOG=1")
        .ToList();

    public async Task WaitForAsync(Func<IReadOnlyList<string>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(Messages))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("Notify messages so far:\n" + string.Join("\n--\n", Messages));
            }

            await _received.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                lock (_messages)
                {
                    _messages.Add(Encoding.UTF8.GetString(buffer, 0, read).TrimEnd('\n'));
                }

                _received.Release();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _directory?.Dispose();
        _received.Dispose();
    }
}
