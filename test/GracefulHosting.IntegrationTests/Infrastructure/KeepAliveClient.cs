using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// A bare HTTP/1.1 client on one keep-alive connection at a time. It never retries: a request
/// that fails (refused, reset, closed before the full response) counts as failed. It opens a new
/// connection only when the server said <c>Connection: close</c> or after a failure. It speaks to
/// TCP (IPv4 or IPv6) and Unix domain socket endpoints, over TLS when asked (any certificate).
/// </summary>
internal sealed class KeepAliveClient : IDisposable
{
    private readonly EndPoint _server;
    private readonly bool _tls;
    private Socket? _socket;
    private Stream? _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public KeepAliveClient(EndPoint server, bool tls = false)
    {
        _server = server;
        _tls = tls;
    }

    public int Connections { get; private set; }

    /// <summary>The client's end of the open connection, or null when none is open.</summary>
    public IPEndPoint? LocalEndPoint => _socket?.LocalEndPoint as IPEndPoint;

    /// <summary>Opens a connection now unless one is open, so that a test can see who accepts it before it sends.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (_stream is null)
        {
            bool tcp = _server is IPEndPoint;
            _socket = new Socket(_server.AddressFamily, SocketType.Stream, tcp ? ProtocolType.Tcp : ProtocolType.Unspecified);
            if (tcp)
            {
                _socket.NoDelay = true;
            }

            try
            {
                await _socket.ConnectAsync(_server, cancellationToken);
            }
            catch
            {
                Reset();
                throw;
            }

            Stream stream = new NetworkStream(_socket, ownsSocket: true);
            try
            {
                if (_tls)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    stream = ssl;
                    await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = "localhost",
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    }, cancellationToken);
                }
            }
            catch
            {
                await stream.DisposeAsync();
                _socket = null;
                throw;
            }

            _stream = stream;
            _start = _end = 0;
            Connections++;
        }
    }

    /// <summary>
    /// Opens a connection unless one is open and waits until process <paramref name="pid"/> has accepted
    /// it, so that a request sent next is served there, whatever that process is told meanwhile.
    /// </summary>
    public async Task ConnectAndWaitUntilAcceptedAsync(int pid, TimeSpan timeout)
    {
        await ConnectAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow + timeout;
        while (!ProcNet.HasAccepted(pid, LocalEndPoint!))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Process {pid} did not accept the connection from {LocalEndPoint} within {timeout}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Sends one GET and returns the status code, body and whether the server closes.</summary>
    public async Task<(int Status, string Body, bool Close)> GetAsync(string path, CancellationToken cancellationToken)
    {
        await WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {(_server is IPEndPoint ? _server.ToString() : "localhost")}\r\n\r\n"), cancellationToken);
        return await ReadResponseAsync(cancellationToken);
    }

    /// <summary>
    /// Writes raw request bytes on the connection (opening one if none is open), for a request the
    /// test sends in parts; <see cref="ReadResponseAsync"/> then reads its response.
    /// </summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await ConnectAsync(cancellationToken);
        try
        {
            await _stream!.WriteAsync(bytes, cancellationToken);
        }
        catch
        {
            Reset();
            throw;
        }
    }

    /// <summary>Reads one response: the status code, body and whether the server closes (the connection is then closed).</summary>
    public async Task<(int Status, string Body, bool Close)> ReadResponseAsync(CancellationToken cancellationToken)
    {
        if (_stream is null)
        {
            throw new InvalidOperationException("No connection is open to read a response from.");
        }

        try
        {
            var result = await ReadOneResponseAsync(cancellationToken);
            if (result.Close)
            {
                Reset();
            }

            return result;
        }
        catch
        {
            Reset();
            throw;
        }
    }

    private async Task<(int Status, string Body, bool Close)> ReadOneResponseAsync(CancellationToken cancellationToken)
    {
        string statusLine = await ReadLineAsync(cancellationToken);
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            throw new IOException($"Bad status line '{statusLine}'");
        }

        int status = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        int contentLength = -1;
        bool chunked = false;
        bool close = false;
        while (true)
        {
            string header = await ReadLineAsync(cancellationToken);
            if (header.Length == 0)
            {
                break;
            }

            int colon = header.IndexOf(':', StringComparison.Ordinal);
            string name = header[..colon].Trim();
            string value = header[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                contentLength = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && value.Contains("close", StringComparison.OrdinalIgnoreCase))
            {
                close = true;
            }
        }

        var body = new StringBuilder();
        if (chunked)
        {
            while (true)
            {
                int size = Convert.ToInt32(await ReadLineAsync(cancellationToken), 16);
                if (size == 0)
                {
                    await ReadLineAsync(cancellationToken);
                    break;
                }

                body.Append(Encoding.UTF8.GetString(await ReadBytesAsync(size, cancellationToken)));
                await ReadLineAsync(cancellationToken);
            }
        }
        else if (contentLength >= 0)
        {
            body.Append(Encoding.UTF8.GetString(await ReadBytesAsync(contentLength, cancellationToken)));
        }
        else
        {
            throw new IOException("Response without Content-Length or chunked encoding");
        }

        return (status, body.ToString(), close);
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                string line = Encoding.ASCII.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }

            await FillAsync(cancellationToken);
        }
    }

    private async Task<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        int copied = 0;
        while (copied < count)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            int n = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }

        return result;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        int read = await _stream!.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            throw new IOException("The server closed the connection before the full response");
        }

        _end += read;
    }

    private void Reset()
    {
        if (_stream is null)
        {
            _socket?.Dispose();
        }

        _stream?.Dispose();
        _stream = null;
        _socket = null;
    }

    public void Dispose() => Reset();
}
