using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using GracefulHosting.Child.Drain;

namespace GracefulHosting.Tests.Child.Drain;

/// <summary>A <see cref="TrackedWebSocket"/> over a real server WebSocket, with a real client on a loopback connection.</summary>
public sealed class TrackedWebSocketTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _timeout = new(Timeout);
    private TrackedWebSocket _server = null!;
    private WebSocket _client = null!;

    public async Task InitializeAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var connect = client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        await connect;
        _server = new TrackedWebSocket(WebSocket.CreateFromStream(new NetworkStream(server, ownsSocket: true),
            new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero }));
        _client = WebSocket.CreateFromStream(new NetworkStream(client, ownsSocket: true),
            new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
    }

    public Task DisposeAsync()
    {
        _server.Dispose();
        _client.Dispose();
        _timeout.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task CloseForRestartAsync_OpenSocket_PeerGets1001WithReason()
    {
        Assert.True(await _server.CloseForRestartAsync(_timeout.Token));

        var received = await _client.ReceiveAsync(new byte[64], _timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, received.CloseStatus);
        Assert.Equal(TrackedWebSocket.CloseReason, received.CloseStatusDescription);
        Assert.True(_server.ClosedForRestart);
        Assert.Equal(WebSocketState.CloseSent, _server.State);
    }

    [Fact]
    public async Task SendAsync_AfterCloseForRestart_DroppedWithoutError()
    {
        await SendAsync(_server, "before");
        await _server.CloseForRestartAsync(_timeout.Token);
        await SendAsync(_server, "after");

        Assert.Equal("before", await ReceiveTextAsync(_client));
        var next = await _client.ReceiveAsync(new byte[64], _timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, next.MessageType);
    }

    [Fact]
    public async Task CloseAsync_ByAppAfterHandshakeCompleted_IsNoOp()
    {
        await _server.CloseForRestartAsync(_timeout.Token);
        await _client.ReceiveAsync(new byte[64], _timeout.Token);
        await _client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", _timeout.Token);

        // The typical receive loop: it sees the client's close and answers it, as it would any close.
        var received = await _server.ReceiveAsync(new byte[64], _timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketState.Closed, _server.State);
        await _server.CloseAsync(received.CloseStatus!.Value, received.CloseStatusDescription, _timeout.Token);
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, _timeout.Token);
        Assert.Equal(WebSocketState.Closed, _server.State);
    }

    [Fact]
    public async Task CloseForRestartAsync_AppClosingAlready_ReturnsFalseAndSendsNothing()
    {
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "app", _timeout.Token);

        Assert.False(await _server.CloseForRestartAsync(_timeout.Token));
        var received = await _client.ReceiveAsync(new byte[64], _timeout.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, received.CloseStatus);
        Assert.Equal("app", received.CloseStatusDescription);
        Assert.False(_server.ClosedForRestart);
    }

    [Fact]
    public async Task CloseForRestartAsync_WhileAppSendIsBlocked_WaitsForTheSendToFinish()
    {
        // A message far larger than the socket buffers: the send blocks until the client reads.
        var large = new byte[32 * 1024 * 1024];
        var send = _server.SendAsync(large, WebSocketMessageType.Binary, endOfMessage: true, _timeout.Token);
        Assert.False(send.IsCompleted);

        var close = _server.CloseForRestartAsync(_timeout.Token);
        Assert.False(close.IsCompleted);
        Assert.False(_server.ClosedForRestart);

        // The whole message arrives before the close frame: the two sends took turns.
        long total = 0;
        var buffer = new byte[1024 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await _client.ReceiveAsync(buffer, _timeout.Token);
            total += result.Count;
        }
        while (result.MessageType == WebSocketMessageType.Binary && !result.EndOfMessage);

        Assert.Equal(large.Length, total);
        await send;
        Assert.True(await close);
        Assert.Equal(WebSocketMessageType.Close, (await _client.ReceiveAsync(buffer, _timeout.Token)).MessageType);
    }

    private Task SendAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, _timeout.Token);

    private async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, _timeout.Token);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
