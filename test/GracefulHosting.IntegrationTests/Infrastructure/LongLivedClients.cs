using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>Clients of HelloGraceful's long-lived endpoints: the /ws WebSocket and the /sse event stream.</summary>
internal static class LongLivedClients
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Opens a WebSocket to /ws and reads the pid the server greets it with. With <paramref name="http2"/>,
    /// over HTTP/2 (extended CONNECT, prior knowledge), for a server that speaks only HTTP/2.
    /// </summary>
    public static async Task<(ClientWebSocket Socket, int Pid)> ConnectWebSocketAsync(Uri address, CancellationToken cancellationToken = default, bool http2 = false)
    {
        var socket = new ClientWebSocket();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            var uri = new Uri($"ws://{address.Authority}/ws");
            if (http2)
            {
                socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
                socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                // A handler of its own, so that the WebSocket gets a new connection (to whichever generation
                // accepts it); disposing the handler closes its connections once their streams have ended.
                using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
                await socket.ConnectAsync(uri, invoker, timeout.Token);
            }
            else
            {
                await socket.ConnectAsync(uri, timeout.Token);
            }

            string greeting = await ReceiveTextAsync(socket, timeout.Token)
                ?? throw new InvalidOperationException($"/ws closed before its greeting: {socket.CloseStatus} {socket.CloseStatusDescription}");
            return (socket, Http.ParsePid(greeting));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads one text message; null when the server closed instead (its status is then on the socket).</summary>
    public static async Task<string?> ReceiveTextAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }

    public static Task SendTextAsync(WebSocket socket, string text, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>Opens /sse as an EventSource does (<c>Accept: text/event-stream</c>) and returns the response.</summary>
    public static async Task<HttpResponseMessage> OpenEventStreamAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sse");
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return response;
    }

    /// <summary>
    /// A POST whose body the test sends piece by piece on a raw socket, so that it can still be
    /// uploading when something else happens; nothing is retried.
    /// </summary>
    public sealed class Upload : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;

        private Upload(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
        }

        public static async Task<Upload> StartAsync(Uri address, string path, long contentLength)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(address.Host, address.Port);
            var upload = new Upload(socket);
            await upload._stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: {contentLength}\r\n\r\n"));
            return upload;
        }

        public async Task SendAsync(long bytes)
        {
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < bytes; sent += chunk.Length)
            {
                await _stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - sent)));
            }
        }

        /// <summary>
        /// Reads the whole response (until its Content-Length, its last chunk, or the end of the
        /// connection) and returns the status and the raw body.
        /// </summary>
        public async Task<(int Status, string Body)> ReadResponseAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            var received = new MemoryStream();
            var buffer = new byte[16 * 1024];
            while (true)
            {
                int read = await _stream.ReadAsync(buffer, timeout.Token);
                received.Write(buffer, 0, read);
                string text = Encoding.ASCII.GetString(received.ToArray());
                int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0)
                {
                    if (read == 0)
                    {
                        throw new IOException($"The connection closed before a whole response: '{text}'");
                    }

                    continue;
                }

                string head = text[..end];
                string body = text[(end + 4)..];
                bool complete = read == 0 ||
                    (ContentLength(head) is { } length ? body.Length >= length : body.EndsWith("0\r\n\r\n", StringComparison.Ordinal));
                if (complete)
                {
                    return (int.Parse(head.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture), body);
                }
            }
        }

        private static int? ContentLength(string head)
        {
            foreach (string line in head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    return int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            return null;
        }

        public void Dispose() => _stream.Dispose();
    }
}
