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
        await using (var connection = await HeldConnection.OpenAsync(master))
        {
            using var watch = await connection.WatchAsync();
            Assert.Equal(ServingStatus.Serving, await connection.CheckAsync());

            master.Signal(Native.SIGTERM);
            await master.WaitForLineAsync(@"ChildService\[102\] Stopping: no new connections");

            // Asked on the connection it already has (the master has closed the listening socket on stop),
            // the draining generation runs the checks again and answers NOT_SERVING.
            Assert.Equal(ServingStatus.NotServing, await connection.CheckAsync());
            // Grpc.AspNetCore.HealthChecks ends each Watch with NOT_SERVING as the app starts stopping.
            Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Timeout), "the watch ended without NOT_SERVING");
            Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        }

        Assert.True(await master.WaitForExitAsync(Timeout), "the master did not exit once the held call was let go");
        Assert.Equal(0, master.ExitCode);
    }

    [Fact]
    public async Task HealthService_Restart_OldGenerationStillServingButItsWatchesEndWithNotServing()
    {
        await using var master = Start("--GracefulRestart:DrainQuietPeriod=00:00:20");
        await using (var connection = await HeldConnection.OpenAsync(master))
        {
            using var watch = await connection.WatchAsync();

            master.Signal(Native.SIGHUP);
            await master.WaitForRestartAsync(2);
            await master.WaitForLineAsync(@"ChildService\[102\] Stopping: no new connections");

            // The service as a whole stays healthy: the next generation serves on the same socket.
            Assert.Equal(ServingStatus.Serving, await connection.CheckAsync());
            // The watch is on a generation that goes away: it ends, saying so, and is made again on a new connection.
            Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Timeout), "the watch ended without NOT_SERVING");
            Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        }
    }

    [Fact]
    public async Task HealthServiceFromPublishedCache_MasterStops_NotServingBeforeThePublisherPeriodEnds()
    {
        await using var master = Start("--health-cache=true", "--GracefulRestart:DrainQuietPeriod=00:00:20");
        await using (var connection = await HeldConnection.OpenAsync(master))
        {
            await connection.WaitForStatusAsync(ServingStatus.Serving);

            master.Signal(Native.SIGTERM);
            await master.WaitForLineAsync(@"Health published at once as this generation stops: Unhealthy, to 1 of 1 health check publisher\(s\)");

            // The publisher's next period is 30 s away: the cache holds NOT_SERVING because the library published at once.
            Assert.Equal(ServingStatus.NotServing, await connection.CheckAsync());
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

    /// <summary>
    /// One HTTP/2 connection to the app with a held call on it, which keeps the generation draining, and the
    /// connection open, until disposed; the health service is asked over the same connection.
    /// </summary>
    private sealed class HeldConnection : IAsyncDisposable
    {
        private readonly GrpcChannel _channel;
        private readonly CancellationTokenSource _release = new();
        private readonly AsyncUnaryCall<HoldReply> _held;

        private HeldConnection(Uri address)
        {
            _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxRetryAttempts = 0 });
            Health = new Health.HealthClient(_channel);
            _held = new Ticker.TickerClient(_channel).HoldAsync(new HoldRequest(), cancellationToken: _release.Token);
        }

        /// <summary>The default service, which maps every health check.</summary>
        public static HealthCheckRequest AllServices { get; } = new() { Service = "" };

        private Health.HealthClient Health { get; }

        /// <summary>Opens the connection once the first generation is ready, and waits until it runs the held call.</summary>
        public static async Task<HeldConnection> OpenAsync(MasterProcess master)
        {
            var address = await master.WaitForAddressAsync();
            await master.WaitForReadyAsync(1);
            var connection = new HeldConnection(address);
            await connection._held.ResponseHeadersAsync.WaitAsync(Timeout);
            return connection;
        }

        /// <summary>Starts watching the default service, whose first answer must be SERVING.</summary>
        public async Task<AsyncServerStreamingCall<HealthCheckResponse>> WatchAsync()
        {
            var watch = Health.Watch(AllServices);
            Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Timeout));
            Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);
            return watch;
        }

        public async Task<ServingStatus> CheckAsync() => (await Health.CheckAsync(AllServices).ResponseAsync.WaitAsync(Timeout)).Status;

        /// <summary>Asks until the answer is <paramref name="expected"/>: the publisher fills the health service's cache just after the start.</summary>
        public async Task WaitForStatusAsync(ServingStatus expected)
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (true)
            {
                try
                {
                    if (await CheckAsync() == expected)
                    {
                        return;
                    }
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                {
                    // Nothing published yet.
                }

                Assert.True(DateTime.UtcNow < deadline, $"the health service did not answer {expected}");
                await Task.Delay(20);
            }
        }

        /// <summary>Lets the held call go and closes the connection, which ends a drain.</summary>
        public async ValueTask DisposeAsync()
        {
            await _release.CancelAsync();
            _held.Dispose();
            _channel.Dispose();
            _release.Dispose();
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
