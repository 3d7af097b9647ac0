using System.Diagnostics.Metrics;
using System.Runtime.Versioning;
using GracefulHosting.Diagnostics;
using GracefulHosting.Master;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Master.Supervision;
using GracefulHosting.Systemd;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulHosting.Tests.Master.Supervision;

/// <summary>
/// The supervision on fakes: children the test drives, a fake clock, a recording systemd, a fake
/// logger and the master's meter. Each <c>To…</c> method brings the machine into one state.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class Harness : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private readonly MasterMetrics _metrics;
    private readonly ServiceNotifier _notifier;
    private int _logMark;
    private int _systemdMark;

    public Harness(Action<GracefulRestartOptions>? configure = null)
    {
        configure?.Invoke(Options);
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        _metrics = new MasterMetrics(factory);
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Counts[instrument.Name] = Counts.GetValueOrDefault(instrument.Name) + value);
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => ServingGeneration = value);
        _listener.Start();
        _notifier = new ServiceNotifier(Systemd, Time);
        Launcher = new FakeLauncher(Time);
        Machine = new Supervisor(Options, Launcher, SocketTable.ForBinding([], Logger), _notifier, _metrics, Time, Logger);
    }

    public GracefulRestartOptions Options { get; } = new();

    public FakeTimeProvider Time { get; } = new();

    public FakeLogger Logger { get; } = new();

    public RecordingSystemd Systemd { get; } = new();

    public FakeLauncher Launcher { get; }

    public Supervisor Machine { get; }

    private Dictionary<string, long> Counts { get; } = [];

    private int ServingGeneration { get; set; }

    /// <summary>The gauge of the serving generation, read now.</summary>
    public int Generation
    {
        get
        {
            _listener.RecordObservableInstruments();
            return ServingGeneration;
        }
    }

    public FakeChild Child(int generation) => Launcher.Children[generation];

    /// <summary>The generations whose children are still alive.</summary>
    public IEnumerable<int> Alive => Launcher.Children.Values.Where(c => !c.HasExited).Select(c => c.Generation);

    public long Count(string instrument) => Counts.GetValueOrDefault("gracefulhosting." + instrument);

    /// <summary>Posts an event and lets the machine take everything pending.</summary>
    public void Send(MasterEvent e)
    {
        Machine.Post(e);
        Run();
    }

    public void Run() => Machine.ProcessPending();

    public void Advance(TimeSpan by)
    {
        Time.Advance(by);
        Run();
    }

    /// <summary>The event ids logged since the last <see cref="Mark"/>.</summary>
    public IReadOnlyList<int> Logged => Logger.Collector.GetSnapshot().Skip(_logMark).Select(r => r.Id.Id).ToList();

    /// <summary>The messages logged since the last <see cref="Mark"/>, with their event ids and levels.</summary>
    public IReadOnlyList<FakeLogRecord> Records => Logger.Collector.GetSnapshot().Skip(_logMark).ToList();

    /// <summary>What systemd heard since the last <see cref="Mark"/>, each message's first line only when it is RELOADING=1 (its time stamp varies).</summary>
    public IReadOnlyList<string> Sent => Systemd.Messages.Skip(_systemdMark)
        .Select(m => m.StartsWith("RELOADING=1", StringComparison.Ordinal) ? "RELOADING=1\n" + m.Split('\n')[^1] : m).ToList();

    /// <summary>From here on, <see cref="Logged"/>, <see cref="Records"/> and <see cref="Sent"/> show only what follows.</summary>
    public void Mark()
    {
        _logMark = Logger.Collector.Count;
        _systemdMark = Systemd.Messages.Count;
    }

    public Harness ToStarting()
    {
        Machine.Begin();
        Run();
        Mark();
        return this;
    }

    /// <summary>Generation 1 serves.</summary>
    public Harness ToServing()
    {
        ToStarting();
        Child(1).BecomeReady();
        Run();
        Mark();
        return this;
    }

    /// <summary>Generation 1 serves, generation 2 starts for a restart the signal asked for.</summary>
    public Harness ToRestarting(TaskCompletionSource<RestartOutcome>? waiter = null)
    {
        ToServing();
        Send(new RestartRequested("SIGHUP", waiter));
        Mark();
        return this;
    }

    /// <summary>
    /// Nothing serves: generation 1 crashed and was replaced by generation 2 at once, which crashed too,
    /// so the master waits <see cref="GracefulRestartOptions.CrashRestartDelay"/> before generation 3.
    /// </summary>
    public Harness ToBackoff()
    {
        ToServing();
        Child(1).Exit(139);
        Run();
        Child(2).BecomeReady();
        Run();
        Child(2).Exit(139);
        Run();
        Mark();
        return this;
    }

    /// <summary>Generation 1 was serving when the master was asked to stop; it drains.</summary>
    public Harness ToStopping()
    {
        ToServing();
        Send(new StopRequested());
        Mark();
        return this;
    }

    public Harness ToStopped()
    {
        ToStopping();
        Child(1).Exit(0);
        Run();
        Mark();
        return this;
    }

    public void Dispose()
    {
        _listener.Dispose();
        _metrics.Dispose();
        _notifier.Dispose();
        _services.Dispose();
    }

    internal sealed class FakeLauncher(TimeProvider time) : IChildLauncher
    {
        public Dictionary<int, FakeChild> Children { get; } = [];

        /// <summary>Thrown by the next launch instead of starting a child.</summary>
        public Exception? Failure { get; set; }

        public IChild Launch(int generation)
        {
            if (Failure is { } failure)
            {
                Failure = null;
                throw failure;
            }

            var child = new FakeChild(generation, time);
            Children.Add(generation, child);
            return child;
        }
    }

    internal sealed class RecordingSystemd : ISystemdNotifier
    {
        public List<string> Messages { get; } = [];

        public bool IsEnabled => true;

        public void Notify(ServiceState state) => Messages.Add(state.ToString());
    }
}
