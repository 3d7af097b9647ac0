using System.Net;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// The HTTP/2 drain race: a client may send streams on a connection before it reads the draining
/// generation's GOAWAY. They must be served, not refused, also for clients that never retry.
/// </summary>
public sealed class Http2GoAwayTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Drain_StreamSentAfterTheConnectionsFirstGoAway_ServedByTheDrainingGeneration()
    {
        await using var master = MasterProcess.Start(arguments:
        [
            "--Kestrel:Endpoints:Http:Protocols=Http2",
            $"--GracefulRestart:Http2GoAwayWindow={Window:c}",
            // Kestrel's own stop, after the quiet period, would close the connection at once if it were idle.
            "--GracefulRestart:DrainQuietPeriod=00:00:15",
        ], output: output);
        var address = await master.WaitForAddressAsync();
        int firstPid = await master.WaitForReadyAsync(1);
        await using var client = await RawHttp2Connection.ConnectAsync(new IPEndPoint(IPAddress.Parse(address.Host), address.Port));
        await client.SendGetAsync(1, address.Authority, "/");
        Assert.NotNull(await client.ReadUntilAsync(f => f.StreamId == 1 && f.EndsStream, Patience));
        Assert.Equal(firstPid, Http.ParsePid(client.BodyOf(1)));

        master.Signal(Native.SIGHUP);
        await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"child#1 pid {firstPid} .*Stopping: no new connections");

        // A request during the drain: the generation asks the connection to close while it runs. Its
        // answer is a 404 with no body, so its headers arrive once Kestrel has seen it end, unless the
        // library holds the stream open.
        await client.SendGetAsync(3, address.Authority, "/.well-known/gracefulhosting/warmup");
        Assert.NotNull(await client.ReadUntilAsync(f => f.StreamId == 3 && f.Type == Http2Frame.Headers, Patience));
        // A round trip the server handles after that: with no request open, Kestrel closes the connection now.
        await client.SendPingAsync(1);
        await client.ReadUntilAsync(f => f.IsPingAck || f.Type == Http2Frame.GoAway && f.LastStreamId < int.MaxValue, Patience);

        // Sent like a client that has not read the GOAWAY yet.
        Http2Frame? end;
        try
        {
            await client.SendGetAsync(5, address.Authority, "/");
            end = await client.ReadUntilAsync(f => f.StreamId == 5 && (f.EndsStream || f.Type == Http2Frame.RstStream)
                || f.Type == Http2Frame.GoAway && f.LastStreamId < 5, Patience);
        }
        catch (IOException e)
        {
            throw new Xunit.Sdk.XunitException($"Stream 5 was lost: {e.Message}; received: {client.Received}");
        }

        Assert.True(end is { StreamId: 5, EndsStream: true }, $"Stream 5 was not served; received: {client.Received}");
        Assert.Equal(firstPid, Http.ParsePid(client.BodyOf(5)));

        // The held stream ends after the window, and the connection then closes with a last GOAWAY that
        // covers both streams; the first GOAWAY announced the close without refusing anything.
        Assert.NotNull(await client.ReadUntilAsync(f => f.StreamId == 3 && f.EndsStream, Patience));
        Assert.Null(await client.ReadUntilAsync(_ => false, Patience));
        var goAways = client.Frames.Where(f => f.Type == Http2Frame.GoAway).Select(f => f.LastStreamId).ToList();
        Assert.Equal(new[] { int.MaxValue, 5 }, goAways);
    }
}
