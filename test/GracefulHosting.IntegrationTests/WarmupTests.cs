using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>A new generation warms its request path up before it takes real connections.</summary>
public sealed class WarmupTests(ITestOutputHelper output)
{
    [Fact]
    public async Task WarmupPath_NewGenerationWarmsUpBeforeAcceptingOrReportingReady()
    {
        // The warm-up request itself takes 1.5 s, so the window in which the new child is bound
        // but must not accept is wide enough to observe.
        await using var master = MasterProcess.Start(arguments: ["--GracefulRestart:WarmupPath=/slow?ms=1500"], output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync("Started child generation 2");
        await master.WaitForLineAsync(@"Child of master \d+, generation 2");
        var servedDuringWarmup = new HashSet<int>();
        var until = DateTime.UtcNow.AddMilliseconds(800);
        while (DateTime.UtcNow < until)
        {
            using var fresh = Http.CreateClient(address);
            servedDuringWarmup.Add(await Http.GetPidAsync(fresh));
        }

        int newPid = await master.WaitForRestartAsync(2);
        master.AssertInOrder("Warmed up with 2 request(s) to /slow?ms=1500 over http (status 200, 200)", $"Child generation 2 (pid {newPid}) is ready",
            "the child must warm up before it reports ready");
        Assert.Equal([oldPid], servedDuringWarmup);
        using var client = Http.CreateClient(address);
        Assert.Equal(newPid, await Http.WaitForPidAsync(client, p => p == newPid, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task WarmupPath_NotSet_WarmsUpWithReservedPathThatNoEndpointAnswers()
    {
        await using var master = MasterProcess.Start();
        var address = await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);

        master.AssertInOrder($"Warmed up with 2 request(s) to {GracefulRestartOptions.DefaultWarmupPath} over http (status 404, 404)",
            $"Child generation 1 (pid {pid}) is ready", "the child must warm up with the reserved path before it reports ready");
        using var client = Http.CreateClient(address);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync(GracefulRestartOptions.DefaultWarmupPath)).StatusCode);
    }

    [Fact]
    public async Task WarmupPath_HttpsOnlyEndpoint_WarmsUpOverTlsAndLogsTheHandshake()
    {
        using var temp = new TempDirectory();
        string certificate = Path.Combine(temp.Path, "localhost.pfx");
        TestCertificate.WriteSelfSigned(certificate, "secret");
        await using var master = MasterProcess.Start(defaultEndpoint: false, arguments:
        [
            "--Kestrel:Endpoints:Http:Url=https://127.0.0.1:0",
            $"--Kestrel:Endpoints:Http:Certificate:Path={certificate}",
            "--Kestrel:Endpoints:Http:Certificate:Password=secret",
        ]);
        var address = await master.WaitForAddressAsync();
        Assert.Equal("https", address.Scheme);
        await master.WaitForReadyAsync(1);

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);
        var lines = master.Lines.ToList();
        var handshakes = lines.Where(l => System.Text.RegularExpressions.Regex.IsMatch(
            l, @"Warm-up TLS handshake \(Tls1[23], certificate CN=localhost\) took [\d.]+ ms")).ToList();
        var warmed = lines.Where(l => l.Contains(
            $"Warmed up with 2 request(s) to {GracefulRestartOptions.DefaultWarmupPath} over https (status 404, 404)", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, handshakes.Count);
        Assert.Equal(2, warmed.Count);
        using var client = Http.CreateClient(address, acceptAnyCertificate: true);
        Assert.Equal(newPid, await Http.WaitForPidAsync(client, p => p == newPid, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task WarmupPath_Http2OnlyEndpoint_SpeaksHttp2WithPriorKnowledge()
    {
        await using var master = MasterProcess.Start(arguments: ["--Kestrel:Endpoints:Http:Protocols=Http2"]);
        await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);

        // The app's routing answers both requests: none is rejected by Kestrel as HTTP/1.1 on an HTTP/2-only endpoint.
        Assert.True(master.HasLine($@"Warmed up with 2 request\(s\) to {GracefulRestartOptions.DefaultWarmupPath} over http \(status 404, 404\) in \d+ ms, speaking HTTP/2"),
            master.Output);
        Assert.False(master.HasLine("Warm-up request to .* failed"), "the warm-up must not wait for its timeout");
    }

    /// <param name="setup">
    /// http2-code: <c>Listen</c> with <c>Protocols = Http2</c>; http2-defaults: <c>UseUrls</c>, and <c>Protocols = Http2</c> in
    /// <c>ConfigureEndpointDefaults</c>. The configuration names no protocols.
    /// </param>
    [Theory]
    [InlineData("http2-code")]
    [InlineData("http2-defaults")]
    public async Task WarmupPath_PlainEndpointHttp2OnlyInCode_EveryRequestSpeaksHttp2AndKestrelRejectsNone(string setup)
    {
        await using var master = MasterProcess.Start(app: "EndpointsApp", defaultEndpoint: false, output: output, arguments:
            [$"--setup={setup}", "--port=0", "--Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel=Debug"]);
        var address = await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);

        Assert.True(master.HasLine($@"Warmed up with 2 request\(s\) to {GracefulRestartOptions.DefaultWarmupPath} over http \(status 404, 404\) in \d+ ms, speaking HTTP/2"),
            master.Output);
        // Kestrel logs each HTTP/1.x request it rejects on an HTTP/2-only endpoint (with a 400), and each HTTP/2
        // preface it gets on an endpoint that speaks HTTP/1.x.
        Assert.False(master.HasLine("Possible incorrect HTTP version detected"), master.Output);
        using var client = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.GetAsync(address);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task WarmupPath_Empty_NoWarmupRequests()
    {
        await using var master = MasterProcess.Start(arguments: ["--GracefulRestart:WarmupPath="], output: output);
        await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);

        Assert.False(master.HasLine("Warmed up with"));
    }

    [Fact]
    public async Task WarmupRequests_ListWithHeaderFromEnvironment_SentInsteadOfTheReservedPath()
    {
        await using var master = MasterProcess.Start(output: output, arguments:
        [
            "--GracefulRestart:Warmup:Requests:0:Path=/slow?ms=1",
            "--GracefulRestart:Warmup:Requests:0:Headers:Authorization=Bearer ${env:WARMUP_TOKEN}",
            "--GracefulRestart:Warmup:Requests:0:Repeat=3",
            "--GracefulRestart:Warmup:Requests:1:Path=/healthz",
        ], environment: new Dictionary<string, string?> { ["WARMUP_TOKEN"] = "t0ken" });
        await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);

        master.AssertInOrder("Warmed up with 4 request(s) to /slow?ms=1, /healthz over http (status 200, 200, 200, 200)",
            $"Child generation 1 (pid {pid}) is ready", "the listed requests must be sent before the child reports ready");
    }

    [Fact]
    public async Task WarmupRequests_UnexpectedStatus_GenerationFailsToStartNamingTheRequest()
    {
        await using var master = MasterProcess.Start(output: output, arguments:
        [
            "--GracefulRestart:Warmup:Requests:0:Path=/healthz",
            "--GracefulRestart:Warmup:Requests:1:Path=/missing",
        ]);
        await master.WaitForAddressAsync();

        await master.WaitForLineAsync(@"Warm-up failed: GracefulRestart:Warmup:Requests:1 \(GET /missing\) answered 404; expected 2xx over http");
        await master.WaitForLineAsync(@"Child generation 1 \(pid \d+\) (exited|failed to start)");
        Assert.False(master.HasLine(@"Child generation 1 \(pid \d+\) is ready"));
    }
}
