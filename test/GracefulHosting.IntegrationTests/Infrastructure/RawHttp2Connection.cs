using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>One frame as the server sent it.</summary>
internal sealed record Http2Frame(byte Type, byte Flags, int StreamId, byte[] Payload)
{
    public const byte Data = 0x0;
    public const byte Headers = 0x1;
    public const byte RstStream = 0x3;
    public const byte Settings = 0x4;
    public const byte Ping = 0x6;
    public const byte GoAway = 0x7;

    /// <summary>The END_STREAM flag of a DATA or HEADERS frame.</summary>
    public bool EndsStream => Type is Data or Headers && (Flags & 0x1) != 0;

    /// <summary>A PING frame that answers one of the client's.</summary>
    public bool IsPingAck => Type == Ping && (Flags & 0x1) != 0;

    /// <summary>The last stream id of a GOAWAY frame: streams above it were not processed.</summary>
    public int LastStreamId => BinaryPrimitives.ReadInt32BigEndian(Payload) & int.MaxValue;

    public override string ToString() => Type switch
    {
        GoAway => $"GOAWAY(last stream {LastStreamId})",
        RstStream => $"RST_STREAM({StreamId}, error {BinaryPrimitives.ReadUInt32BigEndian(Payload)})",
        Ping => IsPingAck ? "PING ACK" : "PING",
        _ => $"type {Type} on stream {StreamId}, flags 0x{Flags:x2}, {Payload.Length} bytes",
    };
}

/// <summary>
/// A bare HTTP/2 client over cleartext with prior knowledge, on one connection. It sends exactly the
/// frames a test asks for and hands over every frame the server sends, in order. It acts on no GOAWAY
/// and retries nothing, so a test can send a stream the way a client does that has not yet read the
/// server's GOAWAY, and see what becomes of it.
/// </summary>
internal sealed class RawHttp2Connection : IAsyncDisposable
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly Channel<Http2Frame> _frames = Channel.CreateUnbounded<Http2Frame>();
    private readonly List<Http2Frame> _received = [];
    private readonly Task _reader;

    private RawHttp2Connection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = Task.Run(ReadFramesAsync);
    }

    /// <summary>Every frame read so far by <see cref="ReadUntilAsync"/>, in order.</summary>
    public IReadOnlyList<Http2Frame> Frames => _received;

    /// <summary><see cref="Frames"/> as text, for a failure message.</summary>
    public string Received => string.Join(", ", _received);

    public static async Task<RawHttp2Connection> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        var connection = new RawHttp2Connection(socket);
        // The preface and an empty SETTINGS frame: every setting keeps its default.
        await connection.WriteAsync([.. Preface, .. Frame(Http2Frame.Settings, 0, 0, [])]);
        return connection;
    }

    /// <summary>Sends a GET of <paramref name="path"/> on <paramref name="streamId"/>, with no body.</summary>
    public Task SendGetAsync(int streamId, string authority, string path)
    {
        // HPACK without the dynamic table: :method GET and :scheme http from the static table, :path and
        // :authority as literals that name a static entry (RFC 7541, appendix A).
        var block = new List<byte> { 0x82, 0x86 };
        if (path == "/")
        {
            block.Add(0x84);
        }
        else
        {
            AddLiteral(block, nameIndex: 4, path);
        }

        AddLiteral(block, nameIndex: 1, authority);
        const byte endStreamAndHeaders = 0x1 | 0x4;
        return WriteAsync(Frame(Http2Frame.Headers, endStreamAndHeaders, streamId, [.. block]));
    }

    public Task SendPingAsync(ulong payload)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(data, payload);
        return WriteAsync(Frame(Http2Frame.Ping, 0, 0, data));
    }

    /// <summary>
    /// Reads frames until one matches <paramref name="match"/> and returns it, or null once the server
    /// has closed the connection.
    /// </summary>
    public async Task<Http2Frame?> ReadUntilAsync(Func<Http2Frame, bool> match, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (await _frames.Reader.WaitToReadAsync(cancel.Token))
            {
                while (_frames.Reader.TryRead(out var frame))
                {
                    _received.Add(frame);
                    if (match(frame))
                    {
                        return frame;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"No matching frame within {timeout}; received: {Received}");
        }

        return null;
    }

    /// <summary>The bytes of the DATA frames received so far on <paramref name="streamId"/>, as text.</summary>
    public string BodyOf(int streamId) => Encoding.UTF8.GetString(
        [.. _received.Where(f => f.Type == Http2Frame.Data && f.StreamId == streamId).SelectMany(f => f.Payload)]);

    private static void AddLiteral(List<byte> block, byte nameIndex, string value)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes.Length, 126, nameof(value));
        // Literal header field without indexing, indexed name (4-bit prefix); the value is not Huffman-coded.
        block.Add(nameIndex);
        block.Add((byte)bytes.Length);
        block.AddRange(bytes);
    }

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    private async Task WriteAsync(byte[] bytes)
    {
        await _writing.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes);
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task ReadFramesAsync()
    {
        var header = new byte[9];
        try
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(header);
                int length = header[0] << 16 | header[1] << 8 | header[2];
                var payload = new byte[length];
                await _stream.ReadExactlyAsync(payload);
                var frame = new Http2Frame(header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue, payload);
                if (frame.Type == Http2Frame.Settings && (frame.Flags & 0x1) == 0)
                {
                    await WriteAsync(Frame(Http2Frame.Settings, 0x1, 0, []));
                }

                _frames.Writer.TryWrite(frame);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ObjectDisposedException)
        {
            // The server closed the connection (or the test is done with it).
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the server.
        }

        await _stream.DisposeAsync();
        await _reader;
        _writing.Dispose();
    }
}
