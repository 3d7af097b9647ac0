using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Master.Supervision;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Master;

// Runs in the master instead of the app: sets up sockets, the restart signal and the control socket; the Supervisor does the rest.
[SupportedOSPlatform("linux")]
internal sealed class MasterService : IHostedService, Control.IControlCommands, IDisposable
{
    private readonly GracefulRestartOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ChildCommand _command;
    private readonly ServiceNotifier _notifier;
    private readonly Diagnostics.MasterMetrics _metrics;
    private readonly string _applicationName;

    private SocketTable? _table;
    private Supervisor? _supervisor;
    private PosixSignalRegistration? _restartSignal;
    private Control.ControlSocket? _controlSocket;

    public MasterService(
        IOptions<GracefulRestartOptions> options,
        ILogger<MasterService> logger,
        TimeProvider time,
        ChildCommand command,
        ServiceNotifier notifier,
        Diagnostics.MasterMetrics metrics,
        IHostEnvironment environment)
    {
        _applicationName = environment.ApplicationName;
        _notifier = notifier;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        _time = time;
        _command = command;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StartFirstGenerationAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The host reports the exception; the exit code must say it too, whatever Main returns.
            Hosting.FailureExitCode.Arm();
            throw;
        }
    }

    private async Task StartFirstGenerationAsync(CancellationToken cancellationToken)
    {
        var activation = SocketActivation.FromEnvironment(Environment.ProcessId, out string? ignored);
        if (ignored is not null)
        {
            MasterLog.SocketActivationIgnored(_logger, ignored);
        }

        // Each generation's Kestrel asks for what it binds; under socket activation the table holds
        // systemd's sockets and binds nothing.
        _table = activation is null
            ? SocketTable.ForBinding(InheritedHandles.FindListening(), _logger)
            : SocketTable.ForActivation(activation, _logger);
        MasterLog.MasterStarting(_logger, Environment.ProcessId, _table.Count, _options.Strategy);

        var supervisor = new Supervisor(_options, new ProcessLauncher(_command, _table, _time, _logger), _table, _notifier, _metrics, _time, _logger);
        _supervisor = supervisor;

        RestartSignals.TryParse(_options.RestartSignal, out int signal);
        if (Interop.Libc.ResetIfIgnored(signal))
        {
            MasterLog.RestartSignalWasIgnored(_logger, _options.RestartSignal);
        }

        _restartSignal = PosixSignalRegistration.Create((PosixSignal)signal, context =>
        {
            context.Cancel = true;
            RequestRestart();
        });

        _ = Task.Run(supervisor.RunAsync, CancellationToken.None);
        bool serving;
        // The host cancels the start when it is asked to stop meanwhile: the generation starting is then abandoned.
        using (cancellationToken.Register(() => supervisor.Post(new StopRequested())))
        {
            serving = await supervisor.FirstGeneration.ConfigureAwait(false);
        }

        if (!serving)
        {
            return;
        }

        _notifier.StartWatchdogIfAsked();

        OpenControlSocket();
    }

    // A socket the option names must be had; a default one in use (say, by a second copy of the app) is skipped with a warning.
    private void OpenControlSocket()
    {
        var (path, configured) = Control.ControlSocketPath.Resolve(_options.ControlSocket,
            Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY"), _applicationName, _command.WorkingDirectory, Interop.Libc.GetEffectiveUserId());
        try
        {
            _controlSocket = Control.ControlSocket.Open(path, this, _logger);
            Control.ControlLog.Listening(_logger, path);
        }
        catch (Exception e) when (!configured && e is Microsoft.AspNetCore.Connections.AddressInUseException or InvalidOperationException
            or IOException or UnauthorizedAccessException)
        {
            Control.ControlLog.Skipped(_logger, e.Message);
        }
    }

    public async Task<RestartOutcome> ReloadAsync(CancellationToken cancellationToken)
    {
        var outcome = new TaskCompletionSource<RestartOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new RestartRequested("the control socket", outcome));
        return await outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public IReadOnlyList<string> Status() =>
        _supervisor?.Status() ?? [$"master pid={Environment.ProcessId} strategy={_options.Strategy} stopping=false"];

    // Requests that arrive during a restart are coalesced into one.
    public void RequestRestart(string? source = null)
    {
        try
        {
            Post(new RestartRequested(source ?? _options.RestartSignal));
        }
        catch (Exception e)
        {
            // Runs on a signal-handling thread: nothing may escape from it.
            MasterLog.StepFailed(_logger, "the restart request", e);
        }
    }

    private void Post(MasterEvent e)
    {
        if (_supervisor is { } supervisor)
        {
            supervisor.Post(e);
        }
        else if (e is RestartRequested { Waiter: { } waiter })
        {
            waiter.TrySetResult(RestartOutcome.Stopping);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _controlSocket?.Dispose();
        _controlSocket = null;
        // The restart signal stays registered while the master stops (the supervisor ignores it then):
        // disposing the registration would give it back its default action, which ends the process.
        if (_supervisor is { } supervisor)
        {
            supervisor.Post(new StopRequested());
            await supervisor.Stopped.ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (_restartSignal is not null)
        {
            _restartSignal.Dispose();
            // Until the process exits, the restart signal is ignored rather than fatal.
            RestartSignals.TryParse(_options.RestartSignal, out int signal);
            Interop.Libc.Ignore(signal);
        }

        _supervisor?.Complete();
        _table?.Dispose();
        _notifier.Dispose();
    }
}
