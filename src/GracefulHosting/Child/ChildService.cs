using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Child.Warmup;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Child;

// The child's side of a restart: READY once warmed up, stop accepting at once when stopping, stop when the master is gone.
[SupportedOSPlatform("linux")]
internal sealed class ChildService : IHostedLifecycleService, IDisposable
{
    private readonly InheritedSockets _sockets;
    private readonly ChildListeners _listeners;
    private readonly DrainState _drain;
    private readonly LongLivedConnections _longLived;
    private readonly ChildWarmup _warmup;
    private readonly Warmup.WarmupHooks _hooks;
    private readonly IConfiguration _configuration;
    private readonly EndpointReloadGuard _reloadGuard;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly IServer _server;
    private readonly GracefulRestartOptions _options;
    private readonly ILogger _logger;
    private readonly Sockets.MasterChannel? _control;
    private readonly Systemd.ServiceNotifier _notifier;
    private readonly List<IDisposable> _registrations = [];
    private readonly CancellationTokenSource _disposed = new();
    private readonly int _masterPid = Environment.ProcessId == 1 ? 0 : GetParentPid();

    public ChildService(
        InheritedSockets sockets,
        ChildListeners listeners,
        DrainState drain,
        LongLivedConnections longLived,
        ChildWarmup warmup,
        Warmup.WarmupHooks hooks,
        IConfiguration configuration,
        EndpointReloadGuard reloadGuard,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        IServer server,
        IOptions<GracefulRestartOptions> options,
        Systemd.ServiceNotifier notifier,
        ILogger<ChildService> logger)
    {
        _notifier = notifier;
        _sockets = sockets;
        _listeners = listeners;
        _drain = drain;
        _longLived = longLived;
        _warmup = warmup;
        _hooks = hooks;
        _configuration = configuration;
        _reloadGuard = reloadGuard;
        _time = time;
        _lifetime = lifetime;
        _server = server;
        _options = options.Value;
        _logger = logger;
        // In Direct mode there is no master and no control channel; systemd hears from the app itself.
        _control = sockets.Source as Sockets.MasterChannel;

        // Watch from construction, which the host does before any hosted service starts: a master
        // that dies while this child still warms up must stop it too (stopping cancels the start).
        if (_control is not null)
        {
            _ = WatchMasterAsync(_control, _disposed.Token);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ChildLog.ChildStarting(_logger, _masterPid, _sockets.Marker.Generation, _sockets.Source.Name);
        if (RestartSignals.TryParse(_options.RestartSignal, out int signal))
        {
            _registrations.Add(PosixSignalRegistration.Create((PosixSignal)signal, context =>
            {
                context.Cancel = true;
                ChildLog.RestartSignalIgnored(_logger, _options.RestartSignal, _masterPid);
            }));
        }

        _registrations.Add(_lifetime.ApplicationStarted.Register(OnStarted));
        _registrations.Add(_lifetime.ApplicationStopping.Register(OnStopping));

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Runs before Kestrel's stop, so connections get a last Connection: close and long-lived ones cannot hold the stop until ExitTimeout.
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var grace = _options.EffectiveLongLivedGracePeriod;
        var longLived = _longLived.DrainAsync(grace, _time, cancellationToken);
        await _drain.WaitForIdleAsync(_options.DrainQuietPeriod, _time, cancellationToken).ConfigureAwait(false);
        var result = await longLived.ConfigureAwait(false);
        if (result.Total > 0 || result.Aborted > 0)
        {
            ChildLog.LongLivedClosed(_logger, result.WebSocketsClosed, result.WebSocketsAlreadyClosing, result.GrpcStreamsEnded,
                result.EventStreamsEnded, result.MarkedEnded, result.Aborted, grace, result.Elapsed.TotalMilliseconds);
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void OnStarted()
    {
        _reloadGuard.Freeze();
        _ = StartServingAsync();
    }

    private async Task StartServingAsync()
    {
        try
        {
            await WarmUpThenReportReadyAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Stopped while warming up: no failure, and nothing to report.
        }
        catch (Warmup.WarmupFailedException e)
        {
            Warmup.WarmupLog.Failed(_logger, e.Message);
            Hosting.FailureExitCode.Arm();
            _lifetime.StopApplication();
        }
        catch (Exception e)
        {
            // Runs on the thread pool: nothing may escape. A child that cannot finish starting stops
            // before it reports ready, so the master keeps the generation that serves.
            ChildLog.ReadyReportFailed(_logger, e);
            Hosting.FailureExitCode.Arm();
            _lifetime.StopApplication();
        }
    }

    private async Task WarmUpThenReportReadyAsync()
    {
        using var budget = new Warmup.WarmupBudget(_options.StartTimeout, Warmup.WarmupBudget.Uptime(_time), _time, _lifetime.ApplicationStopping);
        await _hooks.RunAsync(budget).ConfigureAwait(false);
        var requests = Warmup.WarmupRequest.Expand(Warmup.WarmupRequest.FromOptions(_options, _configuration, Environment.GetEnvironmentVariable));
        bool checksStatus = requests.Any(r => r.ExpectedClass is not null);
        if (requests.Count > 0)
        {
            string path = string.Join(", ", requests.Select(r => r.Description).Distinct());
            // Kestrel has bound every endpoint by now and reports each with its scheme.
            var addresses = _server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var targets = ChildWarmup.ChooseTargets(_listeners.Snapshot(), addresses);
            if (targets.Count == 0)
            {
                ChildLog.WarmupSkipped(_logger, path);
            }

            foreach (var (listener, scheme) in targets)
            {
                long began = _time.GetTimestamp();
                try
                {
                    var result = await _warmup.RunAsync(listener, tls: scheme == "https", listener.PlainProtocols, requests, budget.Token)
                        .ConfigureAwait(false);
                    if (result.Handshake is { } handshake)
                    {
                        ChildLog.WarmupTlsHandshake(_logger, handshake.Protocol, handshake.CertificateSubject, handshake.ElapsedMs);
                    }

                    ChildLog.WarmedUp(_logger, result.Statuses.Count, path, scheme, string.Join(", ", result.Statuses),
                        _time.GetElapsedTime(began).TotalMilliseconds, result.Protocol);
                    if (Warmup.WarmupRequest.Check(requests, result.Statuses) is { } failure)
                    {
                        throw new Warmup.WarmupFailedException($"{failure} over {scheme}");
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or HttpRequestException
                    or System.Security.Authentication.AuthenticationException)
                {
                    // Requests that check their status must get it; the default ones only help.
                    if (checksStatus && !_lifetime.ApplicationStopping.IsCancellationRequested)
                    {
                        throw new Warmup.WarmupFailedException($"warm-up requests to {path} over {scheme} failed: {e.Message}", e);
                    }

                    ChildLog.WarmupFailed(_logger, path, scheme, e.Message);
                }
            }
        }

        _warmup.Finish();
        ReportReady();
    }

    private void ReportReady()
    {
        IReadOnlyList<string> addresses = [.. _server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []];
        string serving = string.Join(", ", addresses);
        ChildLog.ChildReady(_logger, serving);
        _sockets.Source.Serving(addresses);
        if (_control is null)
        {
            _notifier.Ready($"Serving on {serving} (pid {Environment.ProcessId})");
            // Without a master, this process is the one systemd's WatchdogSec= watches.
            _notifier.StartWatchdogIfAsked();

            return;
        }

        // The master logs each socket with the URL Kestrel serves on it, and gives this generation the
        // ExitTimeout of its own release before it kills it.
        long exitTimeoutUsec = (long)_options.ExitTimeout.TotalMicroseconds;
        Send($"READY=1\nURLS={string.Join(' ', addresses)}\nEXIT_TIMEOUT_USEC={exitTimeoutUsec}\nSTATUS=Generation {_sockets.Marker.Generation} (pid {Environment.ProcessId}) serving on {serving}\n");
    }

    private void OnStopping()
    {
        _drain.BeginDraining();

        // Stop accepting now rather than when Kestrel's turn to stop comes; the master's other
        // generation keeps accepting on the same sockets.
        _listeners.UnbindAllAsync().GetAwaiter().GetResult();
        _sockets.CloseReturned();

        // Only now is it true that this process takes no new connection: the master waits for this
        // message before it closes its own sockets on stop.
        ChildLog.ChildStopAccepting(_logger, _options.ExitTimeout);
        if (_control is null)
        {
            _notifier.Stopping("Draining in-flight requests");
        }
        else
        {
            Send("STOPPING=1\n");
        }
    }

    private void Send(string message)
    {
        if (_control?.Send(message) is { } error)
        {
            ChildLog.ControlSendFailed(_logger, message.Split('\n')[0], error);
        }
    }

    private async Task WatchMasterAsync(Sockets.MasterChannel control, CancellationToken cancellationToken)
    {
        try
        {
            await control.Closed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            ChildLog.MasterGone(_logger);
            _lifetime.StopApplication();
        }
    }

    internal static int GetParentPid()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("PPid:", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5).Trim(), out int ppid))
                {
                    return ppid;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    public void Dispose()
    {
        _disposed.Cancel();
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _control?.Dispose();
        _notifier.Dispose();
        _disposed.Dispose();
    }
}
