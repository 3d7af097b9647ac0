using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using GracefulHosting.IntegrationTests.Infrastructure;
using GrpcApp;
using Xunit.Abstractions;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>
/// A gRPC service (test/apps/GrpcApp: unary Hello, server-streaming Ticks, bidirectional Echo, the gRPC
/// health service) on an HTTP/2-only endpoint from its appsettings.json, with Grpc.Net.Client clients.
/// </summary>
public sealed class GrpcTests(ITestOutputHelper output)
{
    private const string App = "GrpcApp";
    private const int Streams = 10;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    // The app's GracefulRestart:LongLivedGracePeriod and ExitTimeout (appsettings.json).
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The client settings the README recommends: retry a call that failed with UNAVAILABLE.</summary>
    internal static ServiceConfig RecommendedServiceConfig() => new()
    {
        MethodConfigs =
        {
            new MethodConfig
            {
                Names = { MethodName.Default },
                RetryPolicy = new RetryPolicy
                {
                    MaxAttempts = 5,
                    InitialBackoff = TimeSpan.FromMilliseconds(100),
                    MaxBackoff = TimeSpan.FromSeconds(1),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
    };

    [Fact]
    public async Task UnaryCalls_ThreeRestarts_NoCallFailsWithoutRetries()
    {
        var load = await RestartUnderUnaryLoadAsync(new GrpcChannelOptions { MaxRetryAttempts = 0 }, restarts: 3);

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 0);
    }

    [Fact]
    public async Task ServerStreams_Restart_EachEndsWithUnavailableTrailersAndReopensOnTheNewGeneration()
    {
        await using var master = Start();
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxRetryAttempts = 0 });
        var client = new Ticker.TickerClient(channel);
        var streams = Enumerable.Range(0, Streams).Select(_ => client.Ticks(new TicksRequest())).ToList();
        try
        {
            foreach (var stream in streams)
            {
                Assert.True(await stream.ResponseStream.MoveNext().WaitAsync(Timeout));
                Assert.Equal(oldPid, stream.ResponseStream.Current.Pid);
            }

            var signalled = Stopwatch.StartNew();
            master.Signal(Native.SIGHUP);
            int newPid = await master.WaitForRestartAsync(2);

            // Each stream ends with the status the server sent in its trailers, not with a reset.
            foreach (var stream in streams)
            {
                var ended = await Assert.ThrowsAsync<RpcException>(() => DrainAsync(stream.ResponseStream).WaitAsync(Timeout));
                Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
                Assert.Equal("Server restarting; call again to reach the new generation", ended.Status.Detail);
                // Grpc.Net.Client gives trailers only for a call that received them (a reset has none).
                Assert.NotNull(stream.GetTrailers());
            }

            await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited", Timeout);
            var exited = signalled.Elapsed;
            Assert.True(exited < GracePeriod + TimeSpan.FromSeconds(10) && exited < ExitTimeout,
                $"generation 1 exited {exited} after the restart signal; its streams should not hold it until ExitTimeout ({ExitTimeout})");
            Assert.True(master.HasLine($@"10 gRPC stream\(s\) ended with UNAVAILABLE, 0 event stream\(s\) and 0 marked response\(s\) ended; 0 aborted"),
                master.Output);

            // Reopened, each lands on the new generation.
            foreach (var stream in streams)
            {
                stream.Dispose();
            }

            streams = [.. Enumerable.Range(0, Streams).Select(_ => client.Ticks(new TicksRequest()))];
            foreach (var stream in streams)
            {
                Assert.True(await stream.ResponseStream.MoveNext().WaitAsync(Timeout));
                Assert.Equal(newPid, stream.ResponseStream.Current.Pid);
            }

            // And the next restart is not held up by them either.
            master.Signal(Native.SIGHUP);
            await master.WaitForRestartAsync(3, Timeout);
            await master.WaitForLineAsync($@"Child generation 2 \(pid {newPid}\) exited", Timeout);
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }
    }

    [Fact]
    public async Task RecommendedRetryPolicy_UnaryCallsAcrossRestarts_NoCallFails()
    {
        var load = await RestartUnderUnaryLoadAsync(new GrpcChannelOptions { ServiceConfig = RecommendedServiceConfig() }, restarts: 2);

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 0);
    }

    [Fact]
    public async Task Warmup_Http2OnlyEndpoint_NoBadRequestAndHealthServiceServing()
    {
        await using var master = Start("--Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel=Debug");
        var address = await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);

        var warmed = await master.WaitForLineAsync(@"Warmed up with \d+ request\(s\) to \S+ over http \(status ([^)]*)\) in \d+ ms(.*)");
        Assert.DoesNotContain("400", warmed.Groups[1].Value, StringComparison.Ordinal);
        Assert.Equal(", speaking HTTP/2", warmed.Groups[2].Value);
        // Kestrel logs each HTTP/1.x request it rejects on an HTTP/2-only endpoint.
        Assert.False(master.HasLine("Possible incorrect HTTP version detected"), master.Output);

        using var channel = GrpcChannel.ForAddress(address);
        var health = new Health.HealthClient(channel);
        var reply = await health.CheckAsync(new HealthCheckRequest { Service = "" }).ResponseAsync.WaitAsync(Timeout);
        Assert.Equal(ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task HealthService_MasterStops_NotServingOnTheKeptAliveConnectionWhileTheGenerationDrains()
    {
        // A quiet period long enough that the drain cannot end before the client asks: the held call
        // and the open connection keep the generation draining until the test lets them go.
        await using var master = Start("--GracefulRestart:DrainQuietPeriod=00:00:20");
        var address = await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxRetryAttempts = 0 });
        var health = new Health.HealthClient(channel);
        var request = new HealthCheckRequest { Service = "" };
        using var release = new CancellationTokenSource();
        var held = new Ticker.TickerClient(channel).HoldAsync(new HoldRequest(), cancellationToken: release.Token);
        var watch = health.Watch(request);
        try
        {
            Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(request).ResponseAsync.WaitAsync(Timeout)).Status);
            Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Timeout));
            Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);
            await held.ResponseHeadersAsync.WaitAsync(Timeout);

            master.Signal(Native.SIGTERM);
            await master.WaitForLineAsync(@"ChildService\[102\] Stopping: no new connections");

            // Asked on the connection it already has (the master has closed the listening socket on stop),
            // the draining generation runs the checks again and answers NOT_SERVING.
            Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(request).ResponseAsync.WaitAsync(Timeout)).Status);
            // Grpc.AspNetCore.HealthChecks ends each Watch with NOT_SERVING as the app starts stopping.
            Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Timeout), "the watch ended without NOT_SERVING");
            Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        }
        finally
        {
            // Letting the call go and closing the connection ends the drain.
            await release.CancelAsync();
            watch.Dispose();
            held.Dispose();
            channel.Dispose();
        }

        Assert.True(await master.WaitForExitAsync(Timeout), "the master did not exit once the held call was let go");
        Assert.Equal(0, master.ExitCode);
    }

    /// <summary>
    /// Restarts the app <paramref name="restarts"/> times while four callers make unary calls over one
    /// channel; each restart waits until the old generation has exited and the new one has answered.
    /// </summary>
    private async Task<UnaryLoad> RestartUnderUnaryLoadAsync(GrpcChannelOptions options, int restarts)
    {
        await using var master = Start();
        var address = await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);
        using var channel = GrpcChannel.ForAddress(address, options);
        var load = new UnaryLoad(new Ticker.TickerClient(channel), callers: 4);
        try
        {
            await load.WaitForPidAsync(pid);
            for (int generation = 2; generation <= restarts + 1; generation++)
            {
                master.Signal(Native.SIGHUP);
                int newPid = await master.WaitForRestartAsync(generation);
                await master.WaitForLineAsync($@"Child generation {generation - 1} \(pid \d+\) exited");
                await load.WaitForPidAsync(newPid);
            }
        }
        finally
        {
            await load.DisposeAsync();
        }

        return load;
    }

    private MasterProcess Start(params string[] arguments) =>
        MasterProcess.Start(app: App, defaultEndpoint: false, arguments: ["--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:0", .. arguments], output: output);

    private static async Task DrainAsync(IAsyncStreamReader<Tick> reader)
    {
        while (await reader.MoveNext())
        {
        }
    }

    /// <summary>Callers that each make one Hello call after another until stopped; records every failure and the pids that answered.</summary>
    private sealed class UnaryLoad : IAsyncDisposable
    {
        private readonly Ticker.TickerClient _client;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _callers;
        private readonly Lock _lock = new();
        private readonly List<string> _failures = [];
        private readonly HashSet<int> _pids = [];
        private int _succeeded;

        public UnaryLoad(Ticker.TickerClient client, int callers)
        {
            _client = client;
            _callers = [.. Enumerable.Range(0, callers).Select(_ => Task.Run(CallAsync))];
        }

        public int Succeeded => Volatile.Read(ref _succeeded);

        public IReadOnlyList<string> Failures
        {
            get
            {
                lock (_lock)
                {
                    return [.. _failures];
                }
            }
        }

        public async Task WaitForPidAsync(int pid)
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (true)
            {
                lock (_lock)
                {
                    if (_pids.Contains(pid))
                    {
                        return;
                    }
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"No call was answered by pid {pid}; failures: {string.Join("; ", Failures)}");
                }

                await Task.Delay(20);
            }
        }

        private async Task CallAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    int pid = (await _client.HelloAsync(new HelloRequest { Name = "load" })).Pid;
                    Interlocked.Increment(ref _succeeded);
                    lock (_lock)
                    {
                        _pids.Add(pid);
                    }
                }
                catch (RpcException e)
                {
                    lock (_lock)
                    {
                        _failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {e.StatusCode}: {e.Status.Detail}");
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_callers);
            _stop.Dispose();
        }
    }
}
